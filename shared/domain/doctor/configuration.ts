import { envSchema } from '../../runtime/env';

/**
 * The configuration a function runs with, as the doctor shows it: every variable of shared/runtime/env.ts that is set,
 * secrets (bearer tokens, the webhook secret) only as "set" or "unset", and a webhook URL without its query string
 * (a receiver's token may ride there).
 */
const SECRET_VARIABLE = /TOKEN|SECRET|PASSWORD/;

export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLE.test(name);
}

export function describeConfiguration(env: NodeJS.ProcessEnv): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const name of Object.keys(envSchema.shape)) {
    const value = env[name];
    const set = value !== undefined && value.trim() !== '';
    if (isSecretVariable(name)) shown[name] = set ? 'set' : 'unset';
    else if (set) shown[name] = name.endsWith('_URL') ? withoutQuery(value) : value;
  }
  return shown;
}

function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : `${url.slice(0, at)}?…`;
}
