import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_STS_CREDENTIALS } from '../../local/dev-fixtures';
import { startIceServer } from '../../local/ice/server';
import { startOssServer } from '../../local/oss/server';
import { createOssClient } from '../../shared/adapters/oss/client';
import { createOssRecordStore } from '../../shared/adapters/oss/record-store';
import { createJobRecordStore, jobRecordKey, newJobRecord, type JobRecord } from '../../shared/domain/lifecycle/job-record';
import { parseConfig } from '../../shared/runtime/config';
import { createMemoryLimit } from '../lib/instance-memory';
import { CHILD_SCRIPT, runNode } from '../lib/processes';
import { memorySizesMb } from '../lib/s-yaml';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

const BUCKET = 'yike-uploads';
const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
const JOB_ID = `copy${'0'.repeat(28)}`;
const UPLOAD_KEY = 'uploads/female/large-output.png';

/** MD5 of what a URL serves, streamed. */
function md5Of(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      const hash = createHash('md5');
      response.on('data', (chunk: Buffer) => hash.update(chunk));
      response.on('end', () => resolve(hash.digest('hex').toUpperCase()));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/**
 * The output copy (JOB_RESULTS `copy`) of a 1 GiB output by the job-watcher bundle, alone in a child process in a memory cgroup of its s.yaml
 * memorySize (as its FC instance: bench/lib/instance-memory.ts), over TLS from the local ICE (a generated 1 GiB video)
 * to the local OSS (on disk): the process's peak RSS and the cgroup's peak must stay within memorySize, and the copy
 * must be the output byte for byte (the MD5 OSS computed of what it stored against the output's, streamed here).
 */
export const copyMemory: BenchModule = {
  name: 'copy-memory',
  async run({ root, dist, runId, progress }) {
    const memoryMb = memorySizesMb(root)['job-watcher'];
    if (!memoryMb) throw new Error('s.yaml gives job-watcher no memorySize');
    const dir = mkdtempSync(join(tmpdir(), 'copy-bench-'));
    const oss = await startOssServer({ dataDir: dir, buckets: [BUCKET], maxPutBytes: 2 * GIB });
    const ice = await startIceServer({ finishAfterMs: 1_000, largeOutputBytes: GIB });
    const limit = createMemoryLimit(`yike-bench-${runId}-copy`, memoryMb);
    try {
      ice.seedJobs([
        {
          jobId: JOB_ID,
          appId: 'sys-ao-smith-1',
          appParamsRaw: JSON.stringify({ 'LoadImage.1.TargetImage': `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${UPLOAD_KEY}` }),
          submittedAtMs: Date.now() - 60_000,
        },
      ]);
      const env = { ICE_ENDPOINT: ice.httpsUrl, OSS_ENDPOINT: oss.httpsLocalhostUrl, ALLOWED_BUCKETS: BUCKET, LOG_LEVEL: 'error' };
      const config = parseConfig(env);
      const store = createOssRecordStore(createOssClient(config.oss, { ...LOCAL_STS_CREDENTIALS }, BUCKET));
      const record = newJobRecord({
        jobId: JOB_ID,
        appId: 'sys-ao-smith-1',
        source: `oss://${BUCKET}/${UPLOAD_KEY}`,
        entryPoint: 'upload',
        upload: { bucket: BUCKET, key: UPLOAD_KEY },
        now: new Date(Date.now() - 60_000),
      });
      await createJobRecordStore(store, config.records.prefix).create(record);
      progress(
        `copy-memory: the job-watcher bundle copies a 1 GiB output over TLS, ${limit ? `in a ${memoryMb} MB memory cgroup` : 'unconstrained (no writable cgroup)'}`,
      );
      const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
      delete childEnv.NODE_OPTIONS;
      const { stdout } = await runNode([CHILD_SCRIPT, 'tick', join(dist, 'job-watcher', 'index.js'), 'yike-job-watcher', `${runId}-copy`], childEnv, limit);
      const run = JSON.parse(stdout) as { summary: { copied: number }; ms: number; maxRssMiB: number };
      const cgroupPeakMiB = (limit?.peakBytes() ?? Number.NaN) / MIB;
      const copied = (await store.get<JobRecord>(jobRecordKey(config.records.prefix, JOB_ID)))?.results[0];
      if (run.summary.copied !== 1 || !copied?.ownKey) throw new Error(`copy-memory: the output was not copied: ${stdout}`);
      const head = await createOssClient(config.oss, { ...LOCAL_STS_CREDENTIALS }, BUCKET).head(copied.ownKey);
      const headers = head.res.headers as Record<string, string>;
      const sameBytes = (headers.etag ?? '').replace(/"/g, '') === (await md5Of(copied.outputUrl!)) && Number(headers['content-length']) === GIB;
      if (!sameBytes) throw new Error('copy-memory: the copy differs from the output');
      const where = limit ? `in a ${memoryMb} MB memory cgroup, as on its instance` : 'unconstrained: no writable cgroup';
      const rows: BenchRow[] = [
        atMost(`job-watcher: peak RSS copying a 1 GiB output (${where}; the copy is the output byte for byte)`, run.maxRssMiB, memoryMb, 'MiB'),
        info(
          `job-watcher: the copy took (TLS both ways, loopback, local OSS on disk)`,
          `${(run.ms / 1000).toFixed(1)} s = ${(GIB / MIB / (run.ms / 1000)).toFixed(0)} MiB/s`,
          run.ms,
          'ms',
        ),
      ];
      if (!Number.isNaN(cgroupPeakMiB))
        rows.splice(
          1,
          0,
          atMost(
            'job-watcher: the memory cgroup’s peak while copying 1 GiB (what the kernel charged to it: pages this process touched first)',
            cgroupPeakMiB,
            memoryMb,
            'MiB',
          ),
        );
      return rows;
    } finally {
      limit?.remove();
      await Promise.all([ice.close(), oss.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
