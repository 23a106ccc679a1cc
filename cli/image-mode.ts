import { imageModeFindingKey, imageModeFindings } from '../shared/domain/images/image-modes/findings';
import type { AppRegistry } from '../shared/domain/jobs/apps';
import type { RecordStore } from '../shared/domain/ports';

/**
 * `yike-jobs image-mode [--app A] [--reset]`: the IMAGE_URL_MODE=auto findings of oss://<bucket>/<prefix>settings/image-modes/
 * (docs/image-inputs.md). One JSON line per app: the finding with its recordKey, or `"mode": null` for an app named with
 * --app that has none yet. --reset deletes them: the next job of that app finds its form again.
 */
export async function imageModeCommand(
  flags: { app?: string; reset: boolean },
  target: { store: RecordStore; bucket: string; prefix: string; apps: AppRegistry },
  print: (value: unknown) => void,
): Promise<void> {
  const findings = imageModeFindings({ store: target.store, bucket: target.bucket, recordsPrefix: target.prefix });
  const appId = flags.app === undefined ? undefined : target.apps.resolve(flags.app, '--app').appId;
  const found = appId === undefined ? await findings.list() : [await findings.get(appId)].filter((finding) => finding !== undefined);
  if (appId !== undefined && found.length === 0) {
    print({ appId, mode: null, recordKey: imageModeFindingKey(target.prefix, appId), note: 'no finding yet: the next job of this app finds its form' });
    return;
  }
  for (const finding of found) {
    const recordKey = imageModeFindingKey(target.prefix, finding.appId);
    if (!flags.reset) {
      print({ recordKey, ...finding });
      continue;
    }
    await findings.remove(finding.appId);
    print({ appId: finding.appId, recordKey, reset: true, was: finding.mode });
  }
}
