import { DELAY_PROBE_EVENT, type DelayProbe } from '../../domain/lifecycle/delay-probe';
import { ROUND_EVENT } from '../../domain/lifecycle/next-round';
import { InputError } from '../../runtime/errors';
import * as z from '../../runtime/zod';
import { decodePayload } from './parse';
import { parseTimerEvent, type TimerEvent } from './timer';

/**
 * What the job watcher is invoked with: its timer trigger's event (every minute, the floor), a round it scheduled
 * itself (`{"yike":"watch-round","notBefore"}`, an async InvokeFunction with x-fc-async-delay:
 * shared/domain/lifecycle/next-round.ts), or the doctor's delay probe (`{"yike":"delay-probe",…}`:
 * shared/domain/lifecycle/delay-probe.ts). The doctor's own `{"yike":"doctor"}` is answered before this (doctor.ts).
 */
const roundEventSchema = z.strictObject({
  yike: z.literal(ROUND_EVENT),
  notBefore: z.iso.datetime(),
});

const delayProbeSchema = z.strictObject({
  yike: z.literal(DELAY_PROBE_EVENT),
  id: z.string().check(z.regex(/^[A-Za-z0-9-]{8,80}$/)),
  sentAt: z.iso.datetime(),
  delaySeconds: z.int().check(z.minimum(1), z.maximum(3_599)),
});

export type WatcherEvent = { kind: 'tick'; timer: TimerEvent } | { kind: 'round'; notBefore: number } | { kind: 'delay-probe'; probe: DelayProbe };

export function parseWatcherEvent(payload: unknown): WatcherEvent {
  const value = decodePayload(payload);
  const yike = (value as { yike?: unknown } | null)?.yike;
  if (yike === ROUND_EVENT) return { kind: 'round', notBefore: Date.parse(checked(roundEventSchema, value, 'round').notBefore) };
  if (yike === DELAY_PROBE_EVENT) return { kind: 'delay-probe', probe: checked(delayProbeSchema, value, 'delay probe') };
  return { kind: 'tick', timer: parseTimerEvent(value) };
}

function checked<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
  throw new InputError('INVALID_EVENT', `Not a watcher ${what} event: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
}
