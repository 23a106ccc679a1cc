import type { RecordStore } from '../ports';

/**
 * The doctor's delay probe (shared/domain/doctor/delay-check.ts): the watcher's doctor invokes its own function
 * asynchronously with `{"yike":"delay-probe","id","sentAt","delaySeconds"}` and x-fc-async-delay, and the run that
 * receives it writes a create-only marker saying when it arrived. Nothing else: no round, no ICE call.
 */
export const DELAY_PROBE_EVENT = 'delay-probe';

export interface DelayProbe {
  yike: typeof DELAY_PROBE_EVENT;
  /** Names the probe's marker: letters, digits and dashes. */
  id: string;
  /** When the doctor sent it (ISO-8601). */
  sentAt: string;
  delaySeconds: number;
}

export interface DelayProbeArrival {
  id: string;
  sentAt: string;
  delaySeconds: number;
  arrivedAt: string;
}

export function delayProbeKey(recordsPrefix: string, id: string): string {
  return `${recordsPrefix}doctor/delay-probes/${id}.json`;
}

/** Writes the probe's marker once (a redelivery leaves the first arrival): true when this run wrote it. */
export function recordDelayProbeArrival(store: RecordStore, recordsPrefix: string, probe: DelayProbe, now: Date): Promise<boolean> {
  const arrival: DelayProbeArrival = { id: probe.id, sentAt: probe.sentAt, delaySeconds: probe.delaySeconds, arrivedAt: now.toISOString() };
  return store.createIfAbsent(delayProbeKey(recordsPrefix, probe.id), arrival);
}
