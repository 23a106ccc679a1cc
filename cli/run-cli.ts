import { describeError, InputError } from '../shared/runtime/errors';
import { warnAboutEnvTypos } from './env-typos';

/** The upload function's name in s.yaml (oss-submit's functionName): what `--function` defaults to. */
export const UPLOAD_FUNCTION_NAME = 'yike-oss-submit';

/** What a tool prints for an error: one line, `<tool>: <CODE>: message` (no stack trace, no connection dump). */
export function errorLine(tool: string, error: unknown): string {
  const { code, message } = describeError(error);
  return `${tool}: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}\n`;
}

/**
 * Runs a CLI's main: first a warning for each environment variable that looks like a typo of one it reads (before
 * anything else it prints); then its exit code becomes the process's, and an error is one line on stderr
 * (errorLine) with exit code 1.
 */
export function runCli(tool: string, main: (args: string[]) => Promise<number>): void {
  warnAboutEnvTypos(tool);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(errorLine(tool, error));
      process.exitCode = 1;
    },
  );
}

/** A command line the tool cannot take: one INVALID_ARGUMENTS error naming the flag, pointing at --help. */
export function invalidArgument(message: string, path: string): InputError {
  return new InputError('INVALID_ARGUMENTS', `${message} (see --help)`, [{ path, message }]);
}
