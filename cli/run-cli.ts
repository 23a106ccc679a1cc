import { describeError, InputError } from '../shared/runtime/errors';

/** The upload function's name in s.yaml (oss-submit's functionName): what `--function` defaults to. */
export const UPLOAD_FUNCTION_NAME = 'yike-oss-submit';

/**
 * Runs a CLI's main: its exit code becomes the process's; an error is one line on stderr (`<tool>: <CODE>: message`,
 * never a stack trace) and exit code 1.
 */
export function runCli(tool: string, main: (args: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const { code, message } = describeError(error);
      process.stderr.write(`${tool}: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = 1;
    },
  );
}

/** A command line the tool cannot take: one INVALID_ARGUMENTS error naming the flag, pointing at --help. */
export function invalidArgument(message: string, path: string): InputError {
  return new InputError('INVALID_ARGUMENTS', `${message} (see --help)`, [{ path, message }]);
}
