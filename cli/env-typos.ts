import { REMOVED_VARIABLES } from '../shared/domain/doctor/removed-variables';
import { envSchema } from '../shared/runtime/env';
import { LOCAL_VARIABLES } from './local-cloud';

/**
 * A variable one edit away from one the tools read (`OSS_ENDPIONT` for `OSS_ENDPOINT`) is almost always a typo, and a
 * typo of an endpoint silently means the real cloud. Every tool names such variables first, before anything else it
 * prints (its errors included).
 */
const CREDENTIAL_VARIABLES = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN'];

/** Every variable a function or tool reads (and the removed ones, which the doctor names itself). */
function knownVariables(): Set<string> {
  return new Set([...Object.keys(envSchema.shape), ...Object.keys(REMOVED_VARIABLES), ...CREDENTIAL_VARIABLES, ...LOCAL_VARIABLES]);
}

/** At most one edit apart: one substitution, insertion or deletion, or two neighbours swapped (`ENDPIONT`). */
function withinOneEdit(a: string, b: string): boolean {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    return i === a.length || a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  }
  if (a.length === b.length + 1) return a.slice(i + 1) === b.slice(i);
  if (b.length === a.length + 1) return b.slice(i + 1) === a.slice(i);
  return false;
}

/** Each set variable that is not read but is one edit (or only its case) away from one that is, with that one. */
export function envTypos(env: NodeJS.ProcessEnv): { name: string; meant: string }[] {
  const known = knownVariables();
  const typos: { name: string; meant: string }[] = [];
  for (const name of Object.keys(env)) {
    if (known.has(name) || name.length < 4) continue;
    const upper = name.toUpperCase();
    const meant = [...known].find((candidate) => withinOneEdit(upper, candidate));
    if (meant) typos.push({ name, meant });
  }
  return typos;
}

/** `<tool>: warning: OSS_ENDPIONT is not read: did you mean OSS_ENDPOINT?`, one line per typo, on stderr. */
export function warnAboutEnvTypos(
  tool: string,
  env: NodeJS.ProcessEnv = process.env,
  write: (text: string) => void = (text) => process.stderr.write(text),
): void {
  for (const { name, meant } of envTypos(env)) write(`${tool}: warning: ${name} is set but nothing reads it: did you mean ${meant}?\n`);
}
