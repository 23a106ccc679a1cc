import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import type OSS from 'ali-oss';
import { loadConfig } from '../shared/runtime/config';
import { resolveCredentials } from '../shared/adapters/openapi/credentials';
import { describeError, InputError } from '../shared/runtime/errors';
import { createOssClient } from '../shared/adapters/oss/client';
import { objectRecordKey } from '../shared/domain/submissions/record-keys';
import { LOCAL_STS_CREDENTIALS } from '../local/dev-fixtures';

/**
 * `npm run upload -- ./photo.jpg [--app female|male] [--bucket B] [--key K] [--cloud]`: "drop an image into
 * the bucket". By default into the local OSS endpoint that `npm start` runs; `--cloud` uploads to real OSS
 * with your ALIBABA_CLOUD_* credentials (ICE_REGION). Then waits for the job record.
 */
const USAGE = 'Usage: npm run upload -- <image file> [--app female|male] [--bucket yike-uploads] [--key uploads/<app>/<file>] [--cloud] [--wait-seconds 15]';
const LOCAL_OSS = `http://localhost:${process.env.LOCAL_OSS_PORT ?? 9200}`;
const CONTENT_TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      app: { type: 'string', default: 'female' },
      bucket: { type: 'string', default: 'yike-uploads' },
      key: { type: 'string' },
      cloud: { type: 'boolean' },
      'wait-seconds': { type: 'string', default: '15' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const file = positionals[0];
  if (!file) throw new InputError('FILE_REQUIRED', `an image file is required. ${USAGE}`);

  const local = !values.cloud;
  const env = local ? { ...process.env, OSS_ENDPOINT: LOCAL_OSS } : process.env;
  const config = loadConfig(env);
  const credentials = local ? LOCAL_STS_CREDENTIALS : resolveCredentials({ env });
  const client: OSS = createOssClient(config.oss, credentials, values.bucket);
  const key = values.key ?? `uploads/${values.app}/${basename(file)}`;

  const put = await client.put(key, readFileSync(file), {
    headers: { 'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' },
  });
  const eTag = String((put.res.headers as Record<string, string>).etag ?? '').replace(/"/g, '');
  process.stderr.write(`uploaded ${values.bucket}/${key} (eTag ${eTag}); waiting for the job record...\n`);

  const recordKey = objectRecordKey(config.records.prefix, { bucket: values.bucket, key, eTag });
  const deadline = Date.now() + Number(values['wait-seconds']) * 1000;
  while (Date.now() < deadline) {
    try {
      const record = JSON.parse((await client.get(recordKey)).content.toString('utf8')) as { status: string; result?: unknown; error?: unknown };
      if (record.status !== 'IN_PROGRESS') {
        process.stdout.write(
          `${JSON.stringify({ bucket: values.bucket, key, eTag, status: record.status, ...(record.result as object), error: record.error })}\n`,
        );
        return;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new InputError(
    'NO_JOB_RECORD',
    `no job record at ${values.bucket}/${recordKey} yet: is the upload function running (npm start) and does the key match its trigger prefix?`,
  );
}

main().catch((error: unknown) => {
  const { code, message } = describeError(error);
  process.stderr.write(`upload: ${code}: ${message}\n`);
  if ((error as { code?: string }).code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) process.stderr.write('Is `npm start` running?\n');
  process.exitCode = 1;
});
