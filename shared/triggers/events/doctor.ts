import type { ServicesOptions } from '../../composition/services';
import type { FunctionDoctorReport, FunctionKind } from '../../domain/doctor/report';
import type { InvocationContext } from '../../runtime/invocation';
import { createLogger, type LogSink } from '../../runtime/logger';
import * as z from '../../runtime/zod';

/**
 * The doctor's event, `{"yike":"doctor","replyBy":"<ISO time>"}` (optionally `"image":"oss://bucket/key"`), as
 * `npx yike-doctor` sends it with a synchronous FC InvokeFunction. Every handler asks this before it parses its own
 * event, so a doctor call is never taken for an upload, a pipeline item or a timer tick; and no trigger delivers this
 * shape (an OSS event, a CloudEvent, a timer event and the HTTP trigger's request struct all look different).
 *
 * Synchronous only. FC gives a built-in runtime's handler no sign of how it was invoked (the context holds requestId,
 * credentials, function, region, accountId, retryCount: no invocation type), so the doctor stands on what only a
 * caller waiting for the answer sets: `replyBy`, the time until which it waits (now + its read timeout). An event
 * without it, past it, more than MAX_REPLY_WINDOW_MS ahead, or delivered again by FC (retryCount > 0: async retries)
 * runs nothing: the function answers `{"yike":"doctor","ran":false,"reason":…}` (an async invocation then succeeds,
 * so FC neither retries it nor routes it to onFailure) and logs a warn line.
 */
const MAX_DOCTOR_EVENT_BYTES = 1024;
const MARKER = '"yike"';
/** The CLI waits at most 60 s; a little slack for clocks that disagree. */
const MAX_REPLY_WINDOW_MS = 5 * 60_000;

const doctorEventSchema = z.strictObject({
  yike: z.literal('doctor'),
  replyBy: z.optional(z.string().check(z.maxLength(40))),
  image: z.optional(z.string().check(z.regex(/^oss:\/\/[^/]+\/.+$/), z.maxLength(1100))),
});

export type DoctorRequest = { image?: string };

/** What a doctor event that is not run answers instead of the report. */
interface DoctorNotRun {
  yike: 'doctor';
  ran: false;
  reason: string;
}

type DoctorEvent = { run: DoctorRequest } | { refused: string };

/** The doctor request, why it is not run, or undefined for any other event (cheap for them: a size and a substring test first). */
function doctorEventOf(event: unknown, context: InvocationContext | undefined, nowMs: number): DoctorEvent | undefined {
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
  if (!parsed.success) return undefined;
  const { replyBy, image } = parsed.data;
  const how = 'the doctor runs only for a synchronous InvokeFunction that waits for it: npx yike-doctor (docs/doctor.md)';
  if ((context?.retryCount ?? 0) > 0) return { refused: `a redelivery (retryCount ${context?.retryCount}): ${how}` };
  if (replyBy === undefined) return { refused: `no replyBy: ${how}` };
  const deadline = Date.parse(replyBy);
  if (!Number.isFinite(deadline)) return { refused: `replyBy is not an ISO time: ${how}` };
  if (deadline < nowMs) return { refused: `replyBy ${replyBy} has passed (an asynchronous or late delivery): ${how}` };
  if (deadline - nowMs > MAX_REPLY_WINDOW_MS) return { refused: `replyBy ${replyBy} is more than 5 minutes ahead: ${how}` };
  return { run: { image } };
}

/** What a handler wrapped by withDoctor answers: the doctor's report for a doctor event, its own result otherwise. */
export type WithDoctor<R> = {
  (event: { yike: 'doctor'; replyBy?: string; image?: string }, context: InvocationContext): Promise<FunctionDoctorReport | DoctorNotRun>;
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
  const wrapped = (event: unknown, context: InvocationContext): Promise<R | FunctionDoctorReport | DoctorNotRun> => {
    const doctor = doctorEventOf(event, context, Date.now());
    if (!doctor) return handler(event, context);
    if ('run' in doctor) return answerDoctor(kind, { env: options.env, sink: options.sink, context }, doctor.run);
    const logger = createLogger({ sink: options.sink, fields: { requestId: context?.requestId, function: context?.function?.name } });
    logger.warn('doctor event not run', { kind, reason: doctor.refused });
    return Promise.resolve({ yike: 'doctor', ran: false, reason: doctor.refused });
  };
  return wrapped as WithDoctor<R>;
}

/** http-submit's GET /doctor gives the same answer. */
export function answerDoctor(kind: FunctionKind, options: ServicesOptions, request: DoctorRequest): Promise<FunctionDoctorReport> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runDoctor } = require('../../composition/doctor') as typeof import('../../composition/doctor');
  return runDoctor(kind, options, request);
}
