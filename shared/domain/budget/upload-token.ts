/**
 * A page upload counts against the token that asked for its form (POST /uploads): the form's key carries that
 * token's name, never the token itself, as its last folder: `uploads/<app>/<day>/token-<name>/<uuid>.<ext>`. The
 * signed form pins the key, so a browser cannot change it; oss-submit reads the name back from the upload's key.
 */
const TOKEN_FOLDER = /(?:^|\/)token-([A-Za-z0-9_-]{1,64})\/[^/]+$/;

export const uploadTokenFolder = (name: string) => `token-${name}/`;

/** The token name an upload's key carries, if any. */
export function uploadTokenOf(key: string): string | undefined {
  return TOKEN_FOLDER.exec(key)?.[1];
}
