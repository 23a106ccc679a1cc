import type { Config } from '../../runtime/config';
import { imageKeyRefusal, inspectImageObject } from '../images/image-object';
import type { ImageInputs } from '../images/image-modes/image-inputs';
import type { AppRegistry, YikeApp } from '../jobs/apps';
import type { BucketInspector, ImageObjects } from '../ports';
import { fail, pass, skip, type DoctorCheck } from './report';

/**
 * The image checks of the submit functions, on a real image: the newest one under each app's upload prefix (or the one
 * the doctor was given). `oss.image`: the role HEAD-reads it as a job would. `image-mode`: for each app, the form the
 * job would send, prechecked by ICE (free): with IMAGE_URL_MODE=auto the discovery itself (its finding is written, as
 * a first upload would write it), or the finding verified and replaced when ICE now refuses it.
 */
export interface ImageModeCheckDependencies {
  config: Config;
  apps: AppRegistry;
  imageInputs: ImageInputs;
  imageObjects: Pick<ImageObjects, 'head'>;
  buckets: BucketInspector;
  /** oss://bucket/key given to the doctor (--image). */
  image?: string;
}

type Sample = { bucket: string; key: string };

/** The apps APP_ROUTES sends uploads to, each with its prefixes (an upload under no prefix is never submitted). */
function routedApps(config: Config, apps: AppRegistry): { app: YikeApp; prefixes: string[] }[] {
  const byApp = new Map<string, { app: YikeApp; prefixes: string[] }>();
  for (const [prefix, name] of Object.entries(config.uploads.appRoutes)) {
    const app = apps.resolve(name, 'APP_ROUTES');
    const entry = byApp.get(app.appId) ?? { app, prefixes: [] };
    entry.prefixes.push(prefix);
    byApp.set(app.appId, entry);
  }
  return [...byApp.values()];
}

function uploadBucketOf(config: Config): string | undefined {
  return config.uploads.bucket ?? config.http.allowedBuckets[0] ?? config.records.bucket;
}

async function newestImage(deps: ImageModeCheckDependencies, bucket: string, prefixes: readonly string[]): Promise<Sample | undefined> {
  let best: { key: string; lastModified: string } | undefined;
  for (const prefix of prefixes) {
    for (const object of await deps.buckets.recent(bucket, prefix)) {
      if (imageKeyRefusal(object.key, deps.config)) continue;
      if (!best || object.lastModified > best.lastModified) best = object;
      break;
    }
  }
  return best ? { bucket, key: best.key } : undefined;
}

function parseImage(image: string): Sample | undefined {
  const match = /^oss:\/\/([^/]+)\/(.+)$/.exec(image);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

export async function imageModeChecks(deps: ImageModeCheckDependencies): Promise<DoctorCheck[]> {
  const { config } = deps;
  const headTitle = 'an image is HEAD-read with the role';
  const modeTitle = `the image form ICE takes (IMAGE_URL_MODE=${config.oss.imageUrlMode})`;
  const routed = routedApps(config, deps.apps);
  if (routed.length === 0) {
    const detail = 'no app: set APP_ROUTES';
    return [skip('oss.image', headTitle, detail), skip('image-mode', modeTitle, detail)];
  }
  const given = deps.image === undefined ? undefined : parseImage(deps.image);
  if (deps.image !== undefined && !given) {
    const detail = `--image ${deps.image} is not oss://bucket/key`;
    return [fail('oss.image', headTitle, detail, 'pass --image oss://<bucket>/<key> of an uploaded image'), skip('image-mode', modeTitle, detail)];
  }
  const bucket = uploadBucketOf(config);
  const samples = new Map<string, Sample>();
  for (const { app, prefixes } of routed) {
    const sample = given ?? (bucket ? await newestImage(deps, bucket, prefixes) : undefined);
    if (sample) samples.set(app.appId, sample);
  }
  // An app nobody uploaded for yet is checked with another app's image: the form ICE takes is the same question.
  const fallback = [...samples.values()][0];
  if (!fallback) {
    const where = bucket
      ? Object.keys(config.uploads.appRoutes)
          .map((prefix) => `${bucket}/${prefix}`)
          .join(', ') || bucket
      : 'the upload bucket (the first ALLOWED_BUCKETS)';
    const detail = `no image under ${where} yet: drop one there (its upload finds the form) and run the doctor again, or pass --image oss://bucket/key`;
    return [skip('oss.image', headTitle, detail), skip('image-mode', modeTitle, detail)];
  }

  const head = await inspectImageObject(fallback, config, deps.imageObjects).then(
    (inspected) => ({ ok: true as const, inspected }),
    (error: { code?: string; message?: string }) => ({ ok: false as const, error }),
  );
  if (!head.ok) {
    const source = `oss://${fallback.bucket}/${fallback.key}`;
    const fix =
      head.error.code === 'IMAGE_ACCESS_DENIED'
        ? `grant the role oss:GetObject on acs:oss:*:*:${fallback.bucket}/<upload prefix>* (npm run deploy grants it: deploy/infrastructure.json)`
        : 'pass --image oss://<bucket>/<key> of a real image (a photo, image/*, at most 20 MiB)';
    return [fail('oss.image', headTitle, `${source}: ${head.error.code}: ${head.error.message}`, fix), skip('image-mode', modeTitle, 'needs a readable image')];
  }
  const headCheck = pass('oss.image', headTitle, `oss://${fallback.bucket}/${fallback.key}: ${head.inspected.contentType}, ${head.inspected.size} bytes`);

  const lines: string[] = [];
  let failure: { fix: string } | undefined;
  for (const { app } of routed) {
    const sample = samples.get(app.appId) ?? fallback;
    const report = await deps.imageInputs.inspect(
      app,
      { kind: 'oss', ...sample },
      { productionId: config.defaults.productionId, folderId: config.defaults.folderId },
    );
    const tried = report.tried.map((trial) => `${trial.mode} ${[trial.status, ...trial.errorCodes].join(' ')}`).join(', ');
    if (report.outcome === 'refused') {
      lines.push(`${app.appId}: ICE refused ${report.image} in ${report.configured === 'auto' ? 'every form' : report.configured} (${tried})`);
      failure ??= {
        fix:
          report.configured === 'auto'
            ? 'try a real photo with --image oss://<bucket>/<key>; if every image is refused, check the app and the region (ICE_REGION), and that the role may register assets (an "Error Forbidden.RAM" above names the action)'
            : `set YIKE_IMAGE_URL_MODE=auto (it finds the form ICE takes) or another form, and deploy`,
      };
    } else if (report.via === 'replaced') {
      lines.push(
        `${app.appId}: the finding said ${report.previous?.mode} (${report.previous?.decidedAt}), which ICE now refuses; ${report.mode} passes and is the finding now (${tried})`,
      );
      failure ??= { fix: 'nothing to do: auto replaced the finding (refused uploads meanwhile tried the other forms too); run the doctor again to see ✔' };
    } else {
      const how = report.via === 'configured' ? 'as configured' : report.via === 'finding' ? 'the finding holds' : 'found now, and kept as the finding';
      lines.push(`${app.appId}: ${report.mode} (${how}; ${tried || 'no precheck'})`);
    }
  }
  const detail = lines.join('; ');
  return [headCheck, failure ? fail('image-mode', modeTitle, detail, failure.fix) : pass('image-mode', modeTitle, detail)];
}
