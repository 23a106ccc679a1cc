import type { ServicesOptions } from '../../composition/services';
import type { FunctionDoctorReport, FunctionKind } from '../../domain/doctor/report';
import type { InvocationContext } from '../../runtime/invocation';
import type { LogSink } from '../../runtime/logger';
import * as z from '../../runtime/zod';

/**
 * The doctor's event, `{"yike":"doctor"}` (optionally `"image":"oss://bucket/key"`), as `npx yike-doctor` sends it with a
 * synchronous FC InvokeFunction. Every handler asks this before it parses its own event, so a doctor call is never
 * taken for an upload, a pipeline item or a timer tick; and no trigger delivers this shape (an OSS event, a CloudEvent,
 * a timer event and the HTTP trigger's request struct all look different). Only who may InvokeFunction can send it.
 */
const MAX_DOCTOR_EVENT_BYTES = 1024;
const MARKER = '"yike"';

const doctorEventSchema = z.strictObject({
  yike: z.literal('doctor'),
  image: z.optional(z.string().check(z.regex(/^oss:\/\/[^/]+\/.+$/), z.maxLength(1100))),
});

export type DoctorRequest = { image?: string };

/** The doctor request, or undefined for any other event (cheap for them: a size and a substring test first). */
function doctorRequestOf(event: unknown): DoctorRequest | undefined {
  let value: unknown = event;
  if (Buffer.isBuffer(event) || typeof event === 'string') {
    const text = Buffer.isBuffer(event) ? (event.length > MAX_DOCTOR_EVENT_BYTES ? '' : event.toString('utf8')) : event;
    if (text.length > MAX_DOCTOR_EVENT_BYTES || !text.includes(MARKER)) return undefined;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  const parsed = doctorEventSchema.safeParse(value);
  return parsed.success ? { image: parsed.data.image } : undefined;
}

/** What a handler wrapped by withDoctor answers: the doctor's report for a doctor event, its own result otherwise. */
export type WithDoctor<R> = {
  (event: { yike: 'doctor'; image?: string }, context: InvocationContext): Promise<FunctionDoctorReport>;
  /** A Buffer or string event that holds a doctor request is answered with the report too. */
  (event: unknown, context: InvocationContext): Promise<R>;
};

/**
 * Wraps a handler so it answers the doctor first: the doctor's code (shared/composition/doctor.ts) is required only
 * then, and is a file of its own in the bundle (scripts/build.mjs), so the function's other invocations never load it.
 */
export function withDoctor<R>(
  kind: FunctionKind,
  options: { env?: NodeJS.ProcessEnv; sink?: LogSink },
  handler: (event: unknown, context: InvocationContext) => Promise<R>,
): WithDoctor<R> {
  const wrapped = (event: unknown, context: InvocationContext): Promise<R | FunctionDoctorReport> => {
    const request = doctorRequestOf(event);
    if (!request) return handler(event, context);
    return answerDoctor(kind, { env: options.env, sink: options.sink, context }, request);
  };
  return wrapped as WithDoctor<R>;
}

/** http-submit's GET /doctor gives the same answer. */
export function answerDoctor(kind: FunctionKind, options: ServicesOptions, request: DoctorRequest): Promise<FunctionDoctorReport> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runDoctor } = require('../../composition/doctor') as typeof import('../../composition/doctor');
  return runDoctor(kind, options, request);
}
