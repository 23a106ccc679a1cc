import * as z from '../../runtime/zod';
import { InputError } from '../../runtime/errors';
import { decodePayload } from './parse';

/**
 * FC timer trigger event (help.aliyun.com/zh/fc/formats-of-event-for-different-triggers), delivered as a Buffer of
 * JSON: {"triggerTime":"2023-12-26T07:49:00Z","triggerName":"timer-trigger","payload":"awesome-fc"}. `payload` is
 * the trigger's configured message (may be empty).
 */
const timerEventSchema = z.looseObject({
  triggerTime: z.iso.datetime({ offset: true }),
  triggerName: z.string().check(z.minLength(1)),
  payload: z.optional(z.string()),
});

export type TimerEvent = z.infer<typeof timerEventSchema>;

export function parseTimerEvent(payload: unknown): TimerEvent {
  const parsed = timerEventSchema.safeParse(decodePayload(payload));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
    throw new InputError('INVALID_EVENT', `Not an FC timer trigger event: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
  }
  return parsed.data;
}
