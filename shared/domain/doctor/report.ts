/**
 * What the doctor says: one line per check, ✔ (pass), ✖ (fail) or – (skip: not configured, or nothing to check yet),
 * with what it saw and, for a ✖, what to do. A deployment is ready when no required check fails. The doctor never
 * spends: SubmitYikeAIAppJob is the one call it never makes (SUBMIT_NOT_TRIED says so in every report).
 */
type CheckStatus = 'pass' | 'fail' | 'skip';

export interface DoctorCheck {
  /** Stable: e.g. `ice.permissions`, `oss.region`, `deploy.timer`. */
  id: string;
  title: string;
  status: CheckStatus;
  /** A required check that fails makes the deployment not ready (exit 1). */
  required: boolean;
  detail: string;
  fix?: string;
}

/** What a function answers to {"yike":"doctor"} (and http-submit to GET /doctor). */
export interface FunctionDoctorReport {
  yike: 'doctor';
  /** Which bundle answered: http-submit, oss-submit, job-watcher or budget-renewal. */
  kind: FunctionKind;
  functionName?: string;
  checkedAt: string;
  checks: DoctorCheck[];
  /** The environment variables the function runs with; secrets only as "set" / "unset". */
  configuration: Record<string, string>;
}

export type FunctionKind = 'http-submit' | 'oss-submit' | 'job-watcher' | 'budget-renewal';

export const pass = (id: string, title: string, detail: string): DoctorCheck => ({ id, title, status: 'pass', required: true, detail });
export const fail = (id: string, title: string, detail: string, fix: string): DoctorCheck => ({ id, title, status: 'fail', required: true, detail, fix });
export const skip = (id: string, title: string, detail: string): DoctorCheck => ({ id, title, status: 'skip', required: false, detail });
/** A ✖ that does not make the deployment unready: it works, less well than it could. */
export const notice = (id: string, title: string, detail: string, fix: string): DoctorCheck => ({ id, title, status: 'fail', required: false, detail, fix });

export const SUBMIT_NOT_TRIED: DoctorCheck = {
  id: 'ice.submit',
  title: 'submit (SubmitYikeAIAppJob)',
  status: 'skip',
  required: false,
  detail: 'submit: not tried, it is paid',
};

/** Ready when no required check failed. */
export function isReady(checks: readonly DoctorCheck[]): boolean {
  return checks.every((check) => check.status !== 'fail' || !check.required);
}

/** A check that threw instead of answering: the line says what broke, never a stack. */
export async function guarded(id: string, title: string, run: () => Promise<DoctorCheck | DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    const result = await run();
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return [
      fail(
        id,
        title,
        `the check itself failed: ${code ?? 'Error'}: ${message ?? String(error)}`,
        'see the function log for this request id; run the doctor again',
      ),
    ];
  }
}
