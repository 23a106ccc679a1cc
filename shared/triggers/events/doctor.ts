import type { ServicesOptions } from '../../composition/services';
import type { FunctionDoctorReport, FunctionKind } from '../../domain/doctor/report';
import type { InvocationContext } from '../../runtime/invocation';
import type { DoctorNotRun } from './doctor-run';

/**
 * The doctor's way into every function: `{"yike":"doctor",…}` (shared/triggers/events/doctor-run.ts says what it holds
 * and why only a synchronous InvokeFunction runs it). Every handler asks this before it parses its own event, so a
 * doctor call is never taken for an upload, a pipeline item or a timer tick; and no trigger delivers this shape (an
 * OSS event, a CloudEvent, a timer event and the HTTP trigger's request struct all look different). Only this test
 * is in the bundle: everything else the doctor does is required on first use, from dist/<function>/doctor.js.
 */
const MAX_DOCTOR_EVENT_BYTES = 1024;

/** The event as a value when it is a doctor event (cheap for the others: a size and a substring test first). */
function doctorEventOf(event: unknown): { yike: 'doctor' } | undefined {
  let value = event;
  if (Buffer.isBuffer(event) || typeof event === 'string') {
    if (event.length > MAX_DOCTOR_EVENT_BYTES || !event.includes('"yike"')) return undefined;
    try {
      value = JSON.parse(event.toString()) as unknown;
    } catch {
      return undefined;
    }
  }
  return (value as { yike?: unknown } | null)?.yike === 'doctor' ? (value as { yike: 'doctor' }) : undefined;
}

/** The lazy file (scripts/build.mjs LAZY_LOCAL turns this require into ./doctor.js). */
const doctorRun = (): typeof import('./doctor-run') => require('./doctor-run') as typeof import('./doctor-run');

/** What a handler wrapped by withDoctor answers: the doctor's report for a doctor event, its own result otherwise. */
export type WithDoctor<R> = {
  (event: { yike: 'doctor'; replyBy?: string; image?: string }, context: InvocationContext): Promise<FunctionDoctorReport | DoctorNotRun>;
  /** A Buffer or string event that holds a doctor request is answered with the report too. */
  (event: unknown, context: InvocationContext): Promise<R>;
};

/** Wraps a handler so it answers the doctor first. */
export function withDoctor<R>(
  kind: FunctionKind,
  options: Pick<ServicesOptions, 'env' | 'tuning' | 'sink'>,
  handler: (event: unknown, context: InvocationContext) => Promise<R>,
): WithDoctor<R> {
  const wrapped = (event: unknown, context: InvocationContext) => {
    const doctor = doctorEventOf(event);
    return doctor ? doctorRun().answerDoctorEvent(kind, options, doctor, context) : handler(event, context);
  };
  return wrapped as WithDoctor<R>;
}

/** http-submit's GET /doctor gives the same report. */
export function answerDoctor(kind: FunctionKind, options: ServicesOptions, request: { image?: string }): Promise<FunctionDoctorReport> {
  return doctorRun().answerDoctorRequest(kind, options, request);
}
