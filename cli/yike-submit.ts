import { parseArgs } from 'node:util';
import { InputError } from '../shared/runtime/errors';
import type { ImageSource } from '../shared/domain/images/image-reference';
import { submitYikeJob } from '../shared/domain/submissions/submit-yike-job';
import { createSubmissionServices } from '../shared/composition/submissions';
import { parseWaitFlags, waitForSubmittedJob } from './submit-wait';
import { runCli } from './run-cli';
import { guardLocalCommand } from './local-cloud';

const USAGE = `Usage: yike-submit --image <https-url | oss://bucket/key> --app female|male|<AppId> [--production-id ID] [--folder-id ID]
                   [--wait [--timeout SECONDS] [--interval SECONDS]]

Submits one ICE SubmitYikeAIAppJob and prints {"jobId","requestId","appId"} as JSON. --app is required (there is
no default app); a missing or unknown one is refused before anything is read or sent.
With --wait it then follows the job (GetYikeAIAppJob every --interval seconds, default 5): each status change
goes to stderr with the time since the submit, and the output URLs of a Finished job to stdout, one a line.
Exit codes: 0 submitted (with --wait: Finished); 1 error; 3 the job Failed; 4 still unfinished after --timeout
seconds (default 3600; the job keeps running at ICE).
Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET [/ ALIBABA_CLOUD_SECURITY_TOKEN].
Endpoint: ice.<ICE_REGION>.aliyuncs.com, or ICE_ENDPOINT (e.g. http://127.0.0.1:9100 for the local cloud). A local
command (the local cloud's credentials, or a loopback ICE_ENDPOINT / OSS_ENDPOINT) sends nothing to an aliyuncs.com host.`;

function parseImage(value: string): ImageSource {
  const oss = /^oss:\/\/([^/]+)\/(.+)$/.exec(value);
  if (oss) return { kind: 'oss', bucket: oss[1]!, key: oss[2]! };
  if (/^https?:\/\/\S+$/.test(value)) return { kind: 'url', url: value };
  throw new InputError('INVALID_IMAGE', `--image: expected an http(s) URL or oss://bucket/key, got "${value}"`, [{ path: 'image', message: 'invalid' }]);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      image: { type: 'string' },
      app: { type: 'string' },
      'production-id': { type: 'string' },
      'folder-id': { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const wait = parseWaitFlags(values);
  if (!values.image) throw new InputError('IMAGE_REQUIRED', '--image is required (see --help)', [{ path: 'image', message: 'required' }]);
  // Logs go to stderr (stdout stays one JSON document), and only when LOG_LEVEL asks for them,
  // so a failure prints exactly one line.
  const services = createSubmissionServices({
    sink: (line) => process.stderr.write(`${line}\n`),
    fields: { tool: 'yike-submit' },
    level: process.env.LOG_LEVEL ? undefined : 'error',
  });
  const image = parseImage(values.image);
  // OSS is called for an oss:// image (its HEAD), the records (RECORDS_BUCKET) and the allowed buckets' URLs (a HEAD).
  const { config } = services;
  const readsOss = image.kind === 'oss' || config.records.bucket !== undefined || config.http.allowedBuckets.length > 0;
  guardLocalCommand('yike-submit', config, process.env, { uses: readsOss ? ['ice', 'oss'] : ['ice'] });
  // The URL rules every entry point applies (ICE gets only the normalized href; no userinfo, fragments, records
  // prefixes...); the allowlists only when ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS are set, as for pipeline events. An
  // oss:// image (or a URL on an allowed bucket's domain) is HEAD-read like every {bucket, key}. With RECORDS_BUCKET the
  // job gets a job record, so the job watcher follows it like any other. Over the budget: refused (exit 1).
  const { result } = await submitYikeJob(
    {
      source: 'yike-submit',
      job: { app: values.app, productionId: values['production-id'], folderId: values['folder-id'] },
      image: { named: image, allowlist: 'when-configured' },
      overBudget: 'refuse',
      entryPoint: 'cli',
    },
    services,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!wait) return 0;
  return waitForSubmittedJob(result.jobId, services.ice, wait, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

runCli('yike-submit', main);
