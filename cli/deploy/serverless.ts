/**
 * Serverless Devs, the one step of a deploy that talks to FC: `s preview` renders s.yaml offline (what --dry-run
 * prints, and what every deploy checks first), `s deploy` and `s remove` change the cloud. Each runs as a child process
 * of the `s` this repository pins (@serverless-devs/s), in the repository, with the deployment's YIKE_* variables.
 * `s deploy` downloads the fc3 component from its registry, so tests hand the deploy command a runner of their own
 * (DeployDependencies.serverless) and check what it would be called with.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { YikeError } from '../../shared/runtime/errors';

export interface RenderedFunction {
  functionName: string;
  role?: string;
  runtime?: string;
  memorySize?: number;
  cpu?: number;
  timeout?: number;
  environmentVariables?: Record<string, string>;
  asyncInvokeConfig?: { destinationConfig?: Record<string, { destination: string }> };
  triggers?: { triggerName: string; triggerType: string; invocationRole?: string; sourceArn?: string; triggerConfig?: Record<string, unknown> }[];
}

/** s.yaml rendered: each resource's props, by resource name. */
export type Rendered = Record<string, RenderedFunction>;

export interface ServerlessDevs {
  preview(template: string, variables: Record<string, string>): Promise<Rendered>;
  /** `s deploy -t <template> --assume-yes`: every resource of the template. */
  deploy(template: string, variables: Record<string, string>): Promise<void>;
  /** `s remove -t <template> --assume-yes`. */
  remove(template: string, variables: Record<string, string>): Promise<void>;
}

const RUN_TIMEOUT_MS = 30 * 60_000;

/** The pinned `s`, run in `root` with your environment and the deployment's variables over it. */
export function serverlessDevs(root: string, env: NodeJS.ProcessEnv, onOutput: (text: string) => void): ServerlessDevs {
  const bin = join(root, 'node_modules', '@serverless-devs', 's', 'bin', 's');
  const run = (args: string[], variables: Record<string, string>, quiet: boolean) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [bin, ...args],
        { cwd: root, env: { ...env, ...variables }, timeout: RUN_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error)
            reject(new YikeError('SERVERLESS_DEVS_FAILED', `s ${args.join(' ')} failed: ${(stderr || stdout).trim().split('\n').slice(-3).join(' ')}`));
          else resolve(stdout);
        },
      );
      if (!quiet) child.stdout?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
    });
  return {
    async preview(template, variables) {
      const stdout = await run(['preview', '-o', 'json', '-t', template], variables, true);
      const rendered = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { resources?: Record<string, { props?: RenderedFunction }> };
      return Object.fromEntries(Object.entries(rendered.resources ?? {}).map(([name, resource]) => [name, resource.props as RenderedFunction]));
    },
    deploy: async (template, variables) => void (await run(['deploy', '-t', template, '--assume-yes'], variables, false)),
    remove: async (template, variables) => void (await run(['remove', '-t', template, '--assume-yes'], variables, false)),
  };
}

/**
 * Every `${...}` s.yaml left as it was (an env() without a default, config('AccountID') without `s config add`), with
 * the variable that sets it: a deploy stops on any.
 */
export function unresolved(rendered: Rendered): { where: string; expression: string; set: string }[] {
  const found: { where: string; expression: string; set: string }[] = [];
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\$\{[^}]*\}?/g)) {
        const expression = match[0];
        const variable = /env\('([A-Z0-9_]+)'/.exec(expression)?.[1];
        const set = /config\('AccountID'\)/.test(expression) ? 'YIKE_ACCOUNT_ID (or npm run deploy -- --guided)' : (variable ?? 'the s.yaml expression');
        found.push({ where, expression, set });
      }
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, `${where}[${index}]`);
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, where ? `${where}.${key}` : key);
    }
  };
  walk(rendered, '');
  return found;
}
