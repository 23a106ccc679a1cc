import { InputError, YikeError } from '../../runtime/errors';

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

/** Friendly names accepted wherever an app is named (HTTP body, pipeline events, CLI flags, APP_ROUTES). */
export const APP_ALIASES: Readonly<Record<string, string>> = { female: 'sys-ao-smith-1', male: 'sys-ao-smith-2' };

export interface AppRegistry {
  /** Resolves a friendly name or an AppId; throws InputError UNKNOWN_APP naming the value. */
  resolve(nameOrAppId: string, field?: string): YikeApp;
  /** Like resolve, but a missing name is APP_REQUIRED naming the field: there is no default app. */
  require(nameOrAppId: string | undefined, field?: string): YikeApp;
  list(): YikeApp[];
}

/** `extraApps` (from YIKE_APPS) maps further AppIds to their image param key; it may override built-ins. */
export function createAppRegistry(extraApps: Record<string, string> = {}): AppRegistry {
  const apps = new Map<string, YikeApp>(BUILT_IN_APPS.map((app) => [app.appId, app]));
  for (const [appId, imageParamKey] of Object.entries(extraApps)) {
    apps.set(appId, { appId, imageParamKey, description: 'configured in YIKE_APPS' });
  }
  const resolve = (nameOrAppId: string, field = 'app'): YikeApp => {
    const appId = APP_ALIASES[nameOrAppId] ?? nameOrAppId;
    const app = apps.get(appId);
    if (!app) {
      const known = [...Object.keys(APP_ALIASES), ...apps.keys()].join(', ');
      throw new InputError('UNKNOWN_APP', `${field}: unknown app "${nameOrAppId}" (known: ${known}; add others with YIKE_APPS)`, [
        { path: field, message: `unknown app "${nameOrAppId}"` },
      ]);
    }
    return app;
  };
  return {
    resolve,
    require(nameOrAppId, field = 'app') {
      if (nameOrAppId === undefined || nameOrAppId === '') {
        throw new InputError('APP_REQUIRED', `${field}: required: name the app (${Object.keys(APP_ALIASES).join(', ')} or an AppId); there is no default app`, [
          { path: field, message: 'required' },
        ]);
      }
      return resolve(nameOrAppId, field);
    },
    list: () => [...apps.values()],
  };
}

/** The app an upload's key routes to: the longest APP_ROUTES prefix it starts with; none is never a default app. */
export function routedApp(key: string, appRoutes: Readonly<Record<string, string>>): string | undefined {
  let best: { prefix: string; app: string } | undefined;
  for (const [prefix, app] of Object.entries(appRoutes)) {
    if (key.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) best = { prefix, app };
  }
  return best?.app;
}

/**
 * An upload under no APP_ROUTES prefix: never submitted to some other app (each job is paid). Its submit record says
 * SKIPPED with this code, so a later route, a new upload or a backfill may still submit it.
 */
export function unknownAppPrefix(key: string, appRoutes: Readonly<Record<string, string>>): YikeError {
  const prefixes = Object.keys(appRoutes);
  const known = prefixes.length > 0 ? `APP_ROUTES names ${prefixes.map((prefix) => `"${prefix}"`).join(', ')}` : 'APP_ROUTES is empty';
  return new YikeError('UNKNOWN_APP_PREFIX', `${key} is under no APP_ROUTES prefix (${known}): not submitted to any app`, {
    statusCode: 422,
    details: [{ path: 'key', message: 'under no APP_ROUTES prefix' }],
  });
}

/** AppParams is a JSON *string* in the API; built with JSON.stringify so the image reference survives exactly. */
export function buildAppParams(app: YikeApp, imageReference: string): string {
  return JSON.stringify({ [app.imageParamKey]: imageReference });
}
