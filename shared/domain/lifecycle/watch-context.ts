import type { Config } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import type { FunctionInvoker, Ice, ObjectUrlSigner, RecordStore, ResultCopier, WebhookSender } from '../ports';
import type { NextRound } from './next-round';

/** What a watcher run is given (watcher.ts), and what its rounds share (watch-round.ts, watch-job.ts). */
export interface WatcherDependencies {
  /** `oss`: the life of the own copies' signed playUrl (SIGNED_URL_EXPIRES_SECONDS). */
  config: Pick<Config, 'records' | 'lifecycle' | 'oss'>;
  ice: Pick<Ice, 'batchGetYikeAIAppJobs' | 'maxJobIdsPerBatchGet'>;
  recordStore: (bucket: string) => RecordStore;
  /** FC InvokeFunction client for JOB_NEXT_FUNCTION. */
  invoker?: FunctionInvoker;
  /** This function and the client that invokes it: its next round (next-round.ts). Without it rounds sleep within the run. */
  self?: { functionName: string; invoker: FunctionInvoker };
  /** A scheduled round's due time (epoch ms), from its event; absent for a timer tick. */
  scheduledFor?: number;
  /** The FC request id, kept in the next round's marker. */
  requestId?: string;
  /** Delivers JOB_WEBHOOK_URL notifications (required when a webhook is configured). */
  sendWebhook?: WebhookSender;
  /** Delivers a job's own webhook (`webhookUrl`): it connects only to addresses that do not lead inside. */
  sendJobWebhook?: WebhookSender;
  /** Copies outputs (required when JOB_RESULTS has `copy`). */
  copier?: ResultCopier;
  /** Signs the own copies' playUrl in notifications. */
  signUrl?: ObjectUrlSigner;
  logger: Logger;
  /** Milliseconds left in this invocation (on `clock`). */
  remainingTimeMs: () => number;
  /** Stop starting new work when less than this is left. Default: webhook timeout + 5 s. */
  reserveMs?: number;
  /** Record times. Default: the clock's time. */
  now?: () => Date;
  /** Times rounds and sleeps between them. Default: the real clock. */
  clock?: WatcherClock;
  random?: () => number;
}

export interface WatcherClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface WatcherSummary {
  buckets: string[];
  /** Rounds this run made (1 when nothing was in flight after the first; 0 when a round arrived too early to wait). */
  rounds: number;
  /** How the next round comes, when jobs were still in flight: scheduled (a delayed invocation), or why none was. */
  nextRound?: NextRound;
  /** A scheduled round that FC delivered this much before its due time (the delay ignored): it waited, then slept between rounds. */
  earlyByMs?: number;
  /** Distinct jobs in flight during the run. */
  inflight: number;
  checked: number;
  changed: number;
  settled: number;
  timedOut: number;
  delivered: number;
  deliveryFailures: number;
  claimedElsewhere: number;
  /** Outputs of Finished jobs copied into the results bucket, and copy attempts that failed. */
  copied: number;
  copyFailures: number;
  /** Job records written from an in-flight marker, and jobs found by reconciling submit records. */
  rebuilt: number;
  reconciled: number;
  /** Jobs erased past RETENTION_DAYS, and erasures swept again (retention.ts). */
  erased: number;
  reswept: number;
  iceCalls: number;
  iceErrors: number;
  jobErrors: number;
  /** Buckets whose markers could not be listed (logged; the others are still watched). */
  bucketErrors: number;
  stoppedEarly: boolean;
  durationMs: number;
}

/** A claim younger than this belongs to a run still delivering (webhook ≤ 30 s, FC invoke retries, OSS writes). */
export const CLAIM_LEASE_MS = 5 * 60_000;

/** One run's dependencies with its defaults filled in, and its summary. */
export interface RunContext extends WatcherDependencies {
  clock: WatcherClock;
  now: () => Date;
  reserveMs: number;
  roundMs: number;
  summary: WatcherSummary;
}

export function claimKey(recordsPrefix: string, jobId: string, round: number): string {
  return `${recordsPrefix}claims/${jobId}/${round}`;
}

export function cursorKey(recordsPrefix: string): string {
  return `${recordsPrefix}watcher/cursor.json`;
}
