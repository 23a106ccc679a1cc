import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { describeError, YikeError } from '../../shared/runtime/errors';

/** The backfill's checkpoint file: where a run resumes, and what the runs before it counted. */

const countSchema = z.number().int().nonnegative();

export const checkpointSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  prefix: z.string(),
  app: z.string().nullable(),
  /** Every key up to and including this one is done; null before the first. */
  marker: z.string().nullable(),
  /** The listing reached its end: a new run starts from the beginning. */
  completed: z.boolean(),
  updatedAt: z.string(),
  totals: z.object({ listed: countSchema, invoked: countSchema, skipped: z.record(z.string(), countSchema), failed: countSchema }),
  failures: z.array(z.object({ key: z.string(), code: z.string(), message: z.string() })),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export interface CheckpointIdentity {
  bucket: string;
  prefix: string;
  app?: string;
}

/** Where a run resumes: after the checkpoint's marker, unless there is none or it completed. */
export interface ResumePoint {
  marker?: string;
  previous?: Checkpoint;
}

/**
 * Reads the checkpoint for this bucket/prefix/app. An unfinished checkpoint of another listing is refused rather
 * than overwritten: it is somebody's progress. A completed one is history, and this run starts afresh.
 */
export function loadResumePoint(path: string | undefined, identity: CheckpointIdentity): ResumePoint {
  if (!path || !existsSync(path)) return {};
  let checkpoint: Checkpoint;
  try {
    checkpoint = checkpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new YikeError(
      'CHECKPOINT_INVALID',
      `${path} is not a backfill checkpoint (${describeError(error).message.split('\n')[0]}); delete it or pass another --checkpoint`,
    );
  }
  const sameListing = checkpoint.bucket === identity.bucket && checkpoint.prefix === identity.prefix && checkpoint.app === (identity.app ?? null);
  if (!sameListing && checkpoint.completed) return {};
  if (!sameListing) {
    throw new YikeError(
      'CHECKPOINT_MISMATCH',
      `${path} belongs to bucket "${checkpoint.bucket}", prefix "${checkpoint.prefix}", app ${checkpoint.app ?? '(routes)'}; pass another --checkpoint or delete it`,
    );
  }
  if (checkpoint.completed) return { previous: checkpoint };
  return { marker: checkpoint.marker ?? undefined, previous: checkpoint };
}

/** Temp file + rename: a crash mid-write leaves the previous checkpoint, never half of one. */
export function writeCheckpointAtomically(path: string, checkpoint: Checkpoint): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(checkpoint, null, 2)}\n`);
  renameSync(temp, path);
}
