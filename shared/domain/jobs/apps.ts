import { InputError } from '../../runtime/errors';

/** A Yike AI app and the AppParams key that carries its input image. */
export interface YikeApp {
  appId: string;
  imageParamKey: string;
  description: string;
}

const AOSMITH_IMAGE_KEY = 'LoadImage.1.TargetImage';

const BUILT_IN_APPS: readonly YikeApp[] = [
  { appId: 'sys-ao-smith-1', imageParamKey: AOSMITH_IMAGE_KEY, description: 'AOSmith character replacement (female)' },
  { appId: 'sys-ao-smith-2', imageParamKey: AOSMITH_IMAGE_KEY, description: 'AOSmith character replacement (male)' },
];

/** Friendly names accepted wherever an app is named (HTTP body, CLI, APP_ROUTES, DEFAULT_APP). */
export const APP_ALIASES: Readonly<Record<string, string>> = { female: 'sys-ao-smith-1', male: 'sys-ao-smith-2' };

export interface AppRegistry {
  /** Resolves a friendly name or an AppId; throws InputError UNKNOWN_APP naming the value. */
  resolve(nameOrAppId: string, field?: string): YikeApp;
  list(): YikeApp[];
}

/** `extraApps` (from YIKE_APPS) maps further AppIds to their image param key; it may override built-ins. */
export function createAppRegistry(extraApps: Record<string, string> = {}): AppRegistry {
  const apps = new Map<string, YikeApp>(BUILT_IN_APPS.map((app) => [app.appId, app]));
  for (const [appId, imageParamKey] of Object.entries(extraApps)) {
    apps.set(appId, { appId, imageParamKey, description: 'configured in YIKE_APPS' });
  }
  return {
    resolve(nameOrAppId, field = 'app') {
      const appId = APP_ALIASES[nameOrAppId] ?? nameOrAppId;
      const app = apps.get(appId);
      if (!app) {
        const known = [...Object.keys(APP_ALIASES), ...apps.keys()].join(', ');
        throw new InputError('UNKNOWN_APP', `${field}: unknown app "${nameOrAppId}" (known: ${known}; add others with YIKE_APPS)`, [
          { path: field, message: `unknown app "${nameOrAppId}"` },
        ]);
      }
      return app;
    },
    list: () => [...apps.values()],
  };
}

/** AppParams is a JSON *string* in the API; built with JSON.stringify so the image reference survives exactly. */
export function buildAppParams(app: YikeApp, imageReference: string): string {
  return JSON.stringify({ [app.imageParamKey]: imageReference });
}
