/**
 * Bucket listing for the local OSS server: ListObjects (GetBucket, V1, marker paging) and ListObjectsV2 (GetBucketV2,
 * continuation tokens), both over one page walk that rolls keys up into common prefixes as OSS does.
 *
 * Sources:
 * - [API]      OSS API reference pages ListObjects (GetBucket) and ListObjectsV2 (GetBucketV2): parameters and the
 *              ListBucketResult layout.
 * - [EC]       OSS error centre page 0015-00000402 (max-keys outside 1..1000).
 * - [ALIOSS]   ali-oss 6.23.0: list() needs Owner in every Contents entry.
 */
import type { QueryParams } from './signature';
import { invalidArgument, notImplemented } from './errors';
import { quoted } from './object-headers';
import { compareUtf8, type ObjectStore, type StoredObject } from './object-store';
import { xmlDocument, type XmlNode } from './xml';

const DEFAULT_MAX_KEYS = 100;
const MAX_MAX_KEYS = 1000;
const DECIMAL = /^\d+$/;
const LIST_TYPE_V2 = '2';

/** The ListBucketResult for GET on a bucket: V2 with list-type=2, else V1. */
export function listObjectsXml(store: ObjectStore, bucket: string, query: QueryParams, accountId: string): string {
  if (query['encoding-type'] !== undefined) throw notImplemented('encoding-type in ListObjects');
  return query['list-type'] === LIST_TYPE_V2 ? listV2Xml(store, bucket, query, accountId) : listV1Xml(store, bucket, query, accountId);
}

interface ListPage {
  contents: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts. */
  last: string | undefined;
}

/** Keys after `after` that start with `prefix`, rolled up at `delimiter`, at most maxKeys entries [API]. */
function listPage(store: ObjectStore, bucket: string, params: { prefix: string; after: string; delimiter: string; maxKeys: number }): ListPage {
  const { prefix, after, delimiter, maxKeys } = params;
  const page: ListPage = { contents: [], commonPrefixes: [], truncated: false, last: undefined };
  for (const stored of store.sortedObjects(bucket)) {
    const { key } = stored;
    if (!key.startsWith(prefix) || compareUtf8(key, after) <= 0) continue;
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    const commonPrefix = cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
    // A common prefix is listed once, and not again on the page that starts at it.
    if (commonPrefix !== undefined && (commonPrefix === page.last || compareUtf8(commonPrefix, after) <= 0)) continue;
    if (page.contents.length + page.commonPrefixes.length === maxKeys) {
      page.truncated = true;
      break;
    }
    if (commonPrefix === undefined) {
      page.contents.push(stored);
      page.last = key;
    } else {
      page.commonPrefixes.push(commonPrefix);
      page.last = commonPrefix;
    }
  }
  return page;
}

/** [EC] 0015-00000402: max-keys must be 1..1000 (the exact message is unverified). */
function maxKeysOf(query: QueryParams): number {
  const value = query['max-keys'];
  if (value === undefined) return DEFAULT_MAX_KEYS;
  const maxKeys = DECIMAL.test(value) ? Number(value) : NaN;
  if (!(maxKeys >= 1 && maxKeys <= MAX_MAX_KEYS)) {
    throw invalidArgument(`Argument max-keys must be an integer between 1 and ${MAX_MAX_KEYS}.`, { ArgumentName: 'max-keys', ArgumentValue: value });
  }
  return maxKeys;
}

/** ListObjects (GetBucket) [API]: element order as OSS answers, empty Prefix/Marker/Delimiter included. */
function listV1Xml(store: ObjectStore, bucket: string, query: QueryParams, accountId: string): string {
  const prefix = query.prefix ?? '';
  const marker = query.marker ?? '';
  const delimiter = query.delimiter ?? '';
  const maxKeys = maxKeysOf(query);
  const page = listPage(store, bucket, { prefix, after: marker, delimiter, maxKeys });
  return xmlDocument([
    'ListBucketResult',
    [
      ['Name', bucket],
      ['Prefix', prefix],
      ['Marker', marker],
      ['MaxKeys', String(maxKeys)],
      ['Delimiter', delimiter],
      ['IsTruncated', String(page.truncated)],
      ...(page.truncated ? [['NextMarker', page.last ?? ''] as const] : []),
      ...page.contents.map((stored) => contentsXml(stored, accountId)),
      ...page.commonPrefixes.map(commonPrefixXml),
    ],
  ]);
}

/** ListObjectsV2 (GetBucketV2) [API]: opaque continuation tokens, Owner only with fetch-owner=true, KeyCount last. */
function listV2Xml(store: ObjectStore, bucket: string, query: QueryParams, accountId: string): string {
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter ?? '';
  const startAfter = query['start-after'];
  const token = query['continuation-token'];
  const maxKeys = maxKeysOf(query);
  const after = token !== undefined ? decodeContinuationToken(token) : (startAfter ?? '');
  const page = listPage(store, bucket, { prefix, after, delimiter, maxKeys });
  const owner = query['fetch-owner'] === 'true' ? accountId : undefined;
  return xmlDocument([
    'ListBucketResult',
    [
      ['Name', bucket],
      ['Prefix', prefix],
      ...(startAfter !== undefined ? [['StartAfter', startAfter] as const] : []),
      ...(token !== undefined ? [['ContinuationToken', token] as const] : []),
      ['MaxKeys', String(maxKeys)],
      ['Delimiter', delimiter],
      ['IsTruncated', String(page.truncated)],
      ...(page.truncated ? [['NextContinuationToken', Buffer.from(page.last ?? '', 'utf8').toString('base64url')] as const] : []),
      ...page.contents.map((stored) => contentsXml(stored, owner)),
      ...page.commonPrefixes.map(commonPrefixXml),
      ['KeyCount', String(page.contents.length + page.commonPrefixes.length)],
    ],
  ]);
}

/** Tokens are this server's own: base64url of the last key listed. Anything else is refused (message unverified). */
function decodeContinuationToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url');
  if (token === '' || decoded.toString('base64url') !== token) {
    throw invalidArgument('The continuation token provided is incorrect.', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return decoded.toString('utf8');
}

function contentsXml(stored: StoredObject, ownerId: string | undefined): XmlNode {
  return [
    'Contents',
    [
      ['Key', stored.key],
      ['LastModified', stored.lastModified],
      ['ETag', quoted(stored.etag)],
      ['Type', 'Normal'],
      ['Size', String(stored.size)],
      ['StorageClass', 'Standard'],
      ...(ownerId !== undefined
        ? [
            [
              'Owner',
              [
                ['ID', ownerId],
                ['DisplayName', ownerId],
              ],
            ] as const,
          ]
        : []),
    ],
  ];
}

function commonPrefixXml(commonPrefix: string): XmlNode {
  return ['CommonPrefixes', [['Prefix', commonPrefix]]];
}
