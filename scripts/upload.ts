import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type OSS from 'ali-oss';
import { parseConfig } from '../shared/runtime/config';
import { resolveCredentials } from '../shared/adapters/openapi/credentials';
import { InputError, YikeError } from '../shared/runtime/errors';
import { createOssClient } from '../shared/adapters/oss/client';
import { createAppRegistry } from '../shared/domain/jobs/apps';
import { IMAGE_MAGIC_BYTES } from '../shared/domain/images/image-bytes';
import { checkImageFile } from '../shared/domain/uploads/upload-plan';
import { objectRecordKey } from '../shared/domain/submissions/record-keys';
import { errorLine } from '../cli/run-cli';
import { warnAboutEnvTypos } from '../cli/env-typos';
import { LOCAL_APP_ROUTES, LOCAL_BUCKET, LOCAL_PORTS, LOCAL_STS_CREDENTIALS, localEndpoints, localPorts, refuseRealCloud } from '../cli/local-cloud';

/**
 * `npm run upload -- ./photo.jpg --app female|male [--bucket B] [--key K] [--cloud]`: "drop an image into the bucket".
 * By default into npm start's local OSS (LOCAL_OSS_PORT, as npm start prints the command), never the real cloud;
 * `--cloud` uploads to real OSS with your ALIBABA_CLOUD_* credentials (ICE_REGION). It first checks what the upload
 * function would (the app and the key's APP_ROUTES route, the suffix, the size) and the file's magic number, so a bad
 * file is refused with the function's code and nothing is uploaded. Then it waits for the submit record and prints it:
 * exit 0 for a submitted (or deferred) job; 1 for a refusal (REJECTED, e.g. PRECHECK_FAILED; SKIPPED), with the
 * function's own code and message, or any error.
 */
const TOOL = 'upload';
const USAGE =
  'Usage: npm run upload -- <image file> --app female|male|<AppId> [--bucket yike-uploads] [--key uploads/<app>/<file>] [--cloud] [--wait-seconds 15]';

function readImageFile(path: string): { name: string; size: number; head: Buffer; read: () => Buffer } {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new InputError('FILE_NOT_FOUND', `${resolve(path)} is not a file`, [{ path: 'file', message: 'not a file' }]);
    size = stat.size;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
    throw new InputError('FILE_NOT_FOUND', `no file at ${resolve(path)}`, [{ path: 'file', message: 'not found' }]);
  }
  // The magic number only: a 25 MB file is refused for its size without being read.
  const head = Buffer.alloc(Math.min(size, IMAGE_MAGIC_BYTES));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return { name: basename(path), size, head, read: () => readFileSync(path) };
}

interface SubmitRecord {
  status: string;
  result?: object;
  error?: { code: string; message: string };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      app: { type: 'string' },
      bucket: { type: 'string', default: LOCAL_BUCKET },
      key: { type: 'string' },
      cloud: { type: 'boolean' },
      'wait-seconds': { type: 'string', default: '15' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const path = positionals[0];
  if (!path) throw new InputError('FILE_REQUIRED', `an image file is required. ${USAGE}`);

  const local = !values.cloud;
  const ossEndpoint = localEndpoints(localPorts(process.env)).ossPathStyle;
  // Locally: the local cloud's APP_ROUTES (s.yaml's too); with --cloud, yours when exported.
  const env = local
    ? { APP_ROUTES: LOCAL_APP_ROUTES, ...process.env, OSS_ENDPOINT: process.env.OSS_ENDPOINT || ossEndpoint }
    : { APP_ROUTES: LOCAL_APP_ROUTES, ...process.env };
  const config = parseConfig(env);
  if (local) refuseRealCloud(TOOL, config, { uses: ['oss'], bucket: values.bucket, why: 'uploads to the local cloud (without --cloud)' });
  const file = readImageFile(path);
  const { key, contentType } = checkImageFile(file, { app: values.app, key: values.key }, config, createAppRegistry(config.apps));
  const credentials = local ? LOCAL_STS_CREDENTIALS : resolveCredentials({ env });
  const client: OSS = createOssClient(config.oss, credentials, values.bucket);

  const put = await client.put(key, file.read(), { headers: { 'Content-Type': contentType } }).catch((error: unknown) => {
    if (local && /ECONNREFUSED/.test(String((error as Error).message))) {
      throw new YikeError(
        'LOCAL_CLOUD_NOT_RUNNING',
        `nothing answers at ${config.oss.endpoint}: is npm start running? (If it moved the OSS port, run the upload command it prints: it carries ${LOCAL_PORTS.oss.variable}.)`,
      );
    }
    throw error;
  });
  const eTag = String((put.res.headers as Record<string, string>).etag ?? '').replace(/"/g, '');
  process.stderr.write(`uploaded ${values.bucket}/${key} (eTag ${eTag}); waiting for its submit record...\n`);

  const recordKey = objectRecordKey(config.records.prefix, { bucket: values.bucket, key, eTag });
  const record = await waitForRecord(client, recordKey, Number(values['wait-seconds']) * 1000);
  if (!record) {
    throw new YikeError(
      'NO_JOB_RECORD',
      `no submit record at ${values.bucket}/${recordKey} after ${values['wait-seconds']} s: the upload function did not finish with it (npm start prints its failures; with --cloud: its logs, s logs)`,
    );
  }
  process.stdout.write(`${JSON.stringify({ bucket: values.bucket, key, eTag, status: record.status, ...record.result, error: record.error })}\n`);
  if (record.status === 'COMPLETED' || record.status === 'DEFERRED') return 0;
  // The function's own words: REJECTED (ICE's precheck: PRECHECK_FAILED, an audit), SKIPPED (UNKNOWN_APP_PREFIX), OUTCOME_UNKNOWN.
  process.stderr.write(
    errorLine(TOOL, new YikeError(record.error?.code ?? record.status, `${record.status}: ${record.error?.message ?? 'no reason recorded'}`)),
  );
  return 1;
}

/** The submit record once the function has settled it (anything but IN_PROGRESS), or undefined after `waitMs`. */
async function waitForRecord(client: OSS, recordKey: string, waitMs: number): Promise<SubmitRecord | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    try {
      const record = JSON.parse((await client.get(recordKey)).content.toString('utf8')) as SubmitRecord;
      if (record.status !== 'IN_PROGRESS') return record;
    } catch (error) {
      if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return undefined;
}

warnAboutEnvTypos(TOOL);
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(errorLine(TOOL, error));
    process.exitCode = 1;
  },
);
