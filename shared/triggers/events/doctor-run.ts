import { runDoctor } from '../../composition/doctor';
import type { ServicesOptions } from '../../composition/services';
import type { FunctionDoctorReport, FunctionKind } from '../../domain/doctor/report';
import type { InvocationContext } from '../../runtime/invocation';
import { createLogger } from '../../runtime/logger';
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
/** The CLI waits at most 60 s; a little slack for clocks that disagree. */
const MAX_REPLY_WINDOW_MS = 5 * 60_000;

const doctorEventSchema = z.strictObject({
  yike: z.literal('doctor'),
  replyBy: z.optional(z.string().check(z.maxLength(40))),
  image: z.optional(z.string().check(z.regex(/^oss:\/\/[^/]+\/.+$/), z.maxLength(1100))),
});

type DoctorRequest = { image?: string };

/** What a doctor event that is not run answers instead of the report. */
export interface DoctorNotRun {
  yike: 'doctor';
  ran: false;
  reason: string;
}

type DoctorEvent = { run: DoctorRequest } | { refused: string };

/** The doctor request, or why it is not run. */
function judge(value: unknown, context: InvocationContext | undefined, nowMs: number): DoctorEvent {
  const parsed = doctorEventSchema.safeParse(value);
  if (!parsed.success) {
    return {
      refused: `not a doctor event (${parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ')}): {"yike":"doctor","replyBy":"<ISO time>","image"?:"oss://bucket/key"}`,
    };
  }
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

/**
 * A handler's answer to an event withDoctor took for the doctor's (shared/triggers/events/doctor.ts): the report when a
 * waiting caller sent it, else {"yike":"doctor","ran":false,reason} and a warn line. This file is loaded on first use:
 * scripts/build.mjs makes it dist/<function>/doctor.js, so the functions' other invocations never parse it.
 */
export function answerDoctorEvent(
  kind: FunctionKind,
  options: ServicesOptions,
  value: unknown,
  context: InvocationContext | undefined,
): Promise<FunctionDoctorReport | DoctorNotRun> {
  const doctor = judge(value, context, Date.now());
  if ('run' in doctor) return runDoctor(kind, { ...options, context }, doctor.run);
  const logger = createLogger({ sink: options.sink, fields: { requestId: context?.requestId, function: context?.function?.name } });
  logger.warn('doctor event not run', { kind, reason: doctor.refused });
  return Promise.resolve({ yike: 'doctor', ran: false, reason: doctor.refused });
}

/** http-submit's GET /doctor: the same report (the HTTP trigger is synchronous, and the route is behind the token). */
export function answerDoctorRequest(kind: FunctionKind, options: ServicesOptions, request: DoctorRequest): Promise<FunctionDoctorReport> {
  return runDoctor(kind, options, request);
}
