/**
 * The local ICE's job clock: how a Yike AI app job moves Created → Queuing → Executing → Finished (or Failed) over
 * time. Kept apart from server.ts so the server only asks "what is this job's status now?".
 *
 * - The whole run takes `finishAfterMs` (npm start: LOCAL_ICE_JOB_SECONDS); Created lasts the first tenth, Queuing
 *   until a third, Executing until the end (shares are a local assumption: ICE documents no durations).
 * - The clock is settable (`now`), so tests move jobs forward without sleeping. Signatures are still checked against
 *   the real time: only job ages follow this clock.
 * - A job whose image key contains "fail" ends Failed (no result). The key is the path of the image URL in AppParams
 *   (`https://<bucket>.oss-<region>.aliyuncs.com/<key>`, `oss://<bucket>/<key>`), or, for a media id, of the InputURL
 *   it was registered with.
 */
type LocalJobStatus = 'Created' | 'Queuing' | 'Executing' | 'Finished' | 'Failed';

export interface JobPhase {
  status: LocalJobStatus;
  /** Epoch ms on the job clock. */
  startedAtMs?: number;
  finishedAtMs?: number;
}

export interface JobClock {
  /** Epoch ms on the job clock. */
  now(): number;
  phaseAt(submittedAtMs: number, fails: boolean, atMs?: number): JobPhase;
}

const CREATED_SHARE = 0.1;
const QUEUING_SHARE = 1 / 3;
const FAILING_KEY = /fail/i;

export function createJobClock(options: { finishAfterMs: number; now?: () => number }): JobClock {
  const now = options.now ?? Date.now;
  return {
    now,
    phaseAt(submittedAtMs, fails, atMs = now()) {
      const age = atMs - submittedAtMs;
      const startedAtMs = submittedAtMs + options.finishAfterMs * QUEUING_SHARE;
      const finishedAtMs = submittedAtMs + options.finishAfterMs;
      if (age >= options.finishAfterMs) return { status: fails ? 'Failed' : 'Finished', startedAtMs, finishedAtMs };
      if (age >= options.finishAfterMs * QUEUING_SHARE) return { status: 'Executing', startedAtMs };
      if (age >= options.finishAfterMs * CREATED_SHARE) return { status: 'Queuing' };
      return { status: 'Created' };
    },
  };
}

/** The object key an image reference names: the URL path (decoded), or undefined for a media id. */
function imageKeyOf(image: string): string | undefined {
  const oss = /^oss:\/\/[^/]+\/(.+)$/.exec(image);
  if (oss) return oss[1];
  try {
    const url = new URL(image);
    return decodeURIComponent(url.pathname.replace(/^\//, ''));
  } catch {
    return undefined;
  }
}

/**
 * Whether a job on this image ends Failed. `mediaInputUrl` resolves a media id to the URL it was registered with
 * (RegisterMediaInfo here; other registries, such as Yike assets, can be chained in).
 */
export function imageFails(image: unknown, mediaInputUrl: (mediaId: string) => string | undefined): boolean {
  const key = imageKeyFor(image, mediaInputUrl);
  return key !== undefined && FAILING_KEY.test(key);
}

/** The object key an image names, directly or through the URL its media id was registered with. */
export function imageKeyFor(image: unknown, mediaInputUrl: (mediaId: string) => string | undefined): string | undefined {
  if (typeof image !== 'string') return undefined;
  return imageKeyOf(image) ?? imageKeyOf(mediaInputUrl(image) ?? '');
}

/** LOCAL_ICE_JOB_SECONDS (npm start): how long a local job runs, in ms; undefined when unset. */
export function jobDurationMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.LOCAL_ICE_JOB_SECONDS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`LOCAL_ICE_JOB_SECONDS must be a number of seconds >= 0, got "${raw}"`);
  return Math.round(seconds * 1000);
}
