/**
 * The local OSS server's object store: each bucket's objects on disk, with an in-memory index rebuilt from disk at
 * start, so objects survive a restart. Kept apart from server.ts, which routes requests and speaks HTTP: this
 * module knows files, locks and hashes, not requests (apart from streaming an upload's body to disk).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { heldBody } from '../http';

const MS_PER_SECOND = 1000;
const TEMP_PREFIX = '.tmp-';
const TEMP_RANDOM_BYTES = 12;
const DATA_SUFFIX = '.data';
const META_SUFFIX = '.json';

/** What is kept beside each object's bytes. */
export interface StoredObject {
  key: string;
  /** MD5 of the bytes, upper-case hex, without quotes. */
  etag: string;
  size: number;
  contentType: string;
  /** ISO time, whole seconds (OSS reports Last-Modified to the second). */
  lastModified: string;
  /** x-oss-meta-* headers, lower-case names, values as the wire bytes (one character per byte). */
  userMeta: Record<string, string>;
}

/** An upload written to a temporary file, not yet visible. */
export interface StagedBody {
  tempPath: string;
  size: number;
  md5: Buffer;
}

/** OSS lists keys in the byte order of their UTF-8 encoding, which differs from JavaScript's UTF-16 order. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Objects on disk: <dataDir>/<bucket>/<sha256(key)>.data and .json beside it. Hashing the key makes any key a safe
 * file name (no key can reach outside dataDir), and bucket names are checked against OSS's naming rules. Writes go
 * to a temporary file first and are renamed into place under a per-key lock, so readers never see half an object.
 */
export class ObjectStore {
  private readonly locks = new KeyedLock();

  private constructor(
    private readonly dataDir: string,
    private readonly index: Map<string, Map<string, StoredObject>>,
  ) {}

  static async open(dataDir: string, buckets: string[]): Promise<ObjectStore> {
    const index = new Map<string, Map<string, StoredObject>>();
    for (const bucket of buckets) {
      const dir = join(dataDir, bucket);
      await mkdir(dir, { recursive: true });
      const objects = new Map<string, StoredObject>();
      for (const name of await readdir(dir)) {
        if (name.startsWith(TEMP_PREFIX)) {
          // Left behind by an upload that never finished.
          await rm(join(dir, name), { force: true });
        } else if (name.endsWith(META_SUFFIX)) {
          const stored = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoredObject;
          if (`${fileStem(stored.key)}${META_SUFFIX}` === name) objects.set(stored.key, stored);
        }
      }
      index.set(bucket, objects);
    }
    return new ObjectStore(dataDir, index);
  }

  get(bucket: string, key: string): StoredObject | undefined {
    return this.bucket(bucket).get(key);
  }

  /** Objects in OSS list order. */
  sortedObjects(bucket: string): StoredObject[] {
    return [...this.bucket(bucket).values()].sort((a, b) => compareUtf8(a.key, b.key));
  }

  /** Streams a request body to a temporary file, hashing it; undefined when it grows past `limit` (the rest is drained). */
  async stageUpload(bucket: string, req: IncomingMessage, limit: number): Promise<StagedBody | undefined> {
    const tempPath = this.tempPath(bucket);
    const file = createWriteStream(tempPath, { flags: 'wx' });
    try {
      const received = await receiveBody(req, file, limit);
      file.end();
      await finished(file);
      if (received === undefined) {
        await rm(tempPath, { force: true });
        return undefined;
      }
      return { tempPath, ...received };
    } catch (error) {
      file.destroy();
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  /** Writes bytes already in memory (a PostObject file) to a temporary file. */
  async stageBytes(bucket: string, bytes: Buffer): Promise<StagedBody> {
    const tempPath = this.tempPath(bucket);
    await writeFile(tempPath, bytes, { flag: 'wx' });
    return { tempPath, size: bytes.length, md5: createHash('md5').update(bytes).digest() };
  }

  /** Copies an object's bytes to a temporary file; undefined when the source does not exist. */
  async stageCopy(bucket: string, key: string): Promise<{ staged: StagedBody; source: StoredObject } | undefined> {
    return await this.locks.run(lockId(bucket, key), async () => {
      const source = this.get(bucket, key);
      if (source === undefined) return undefined;
      const tempPath = this.tempPath(bucket);
      await copyFile(this.paths(bucket, key).data, tempPath);
      return { staged: { tempPath, size: source.size, md5: Buffer.from(source.etag, 'hex') }, source };
    });
  }

  /** Publishes staged bytes under `key`; undefined (and nothing changed) when forbidden to overwrite an existing key. */
  async commit(
    bucket: string,
    key: string,
    staged: StagedBody,
    attributes: Pick<StoredObject, 'contentType' | 'userMeta'>,
    forbidOverwrite: boolean,
  ): Promise<{ stored: StoredObject; previous: StoredObject | undefined } | undefined> {
    return await this.locks.run(lockId(bucket, key), async () => {
      const previous = this.get(bucket, key);
      if (previous !== undefined && forbidOverwrite) return undefined;
      const stored: StoredObject = {
        key,
        etag: staged.md5.toString('hex').toUpperCase(),
        size: staged.size,
        contentType: attributes.contentType,
        lastModified: wholeSecondsIso(new Date()),
        userMeta: attributes.userMeta,
      };
      const paths = this.paths(bucket, key);
      const metaTemp = this.tempPath(bucket);
      await writeFile(metaTemp, JSON.stringify(stored), { flag: 'wx' });
      await rename(staged.tempPath, paths.data);
      await rename(metaTemp, paths.meta);
      this.bucket(bucket).set(key, stored);
      return { stored, previous };
    });
  }

  /** Removes a staged file that was not committed (a no-op after commit renamed it). */
  async discard(staged: StagedBody): Promise<void> {
    await rm(staged.tempPath, { force: true });
  }

  /** Opens an object for reading under the key's lock, so metadata and bytes belong to the same version. */
  async openObject(bucket: string, key: string): Promise<{ stored: StoredObject; handle: FileHandle } | undefined> {
    return await this.locks.run(lockId(bucket, key), async () => {
      const stored = this.get(bucket, key);
      if (stored === undefined) return undefined;
      return { stored, handle: await open(this.paths(bucket, key).data, 'r') };
    });
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.locks.run(lockId(bucket, key), async () => {
      const paths = this.paths(bucket, key);
      this.bucket(bucket).delete(key);
      await rm(paths.meta, { force: true });
      await rm(paths.data, { force: true });
    });
  }

  private bucket(bucket: string): Map<string, StoredObject> {
    const objects = this.index.get(bucket);
    if (objects === undefined) throw new TypeError(`Unknown bucket ${bucket}`);
    return objects;
  }

  private paths(bucket: string, key: string): { data: string; meta: string } {
    const stem = join(this.dataDir, bucket, fileStem(key));
    return { data: `${stem}${DATA_SUFFIX}`, meta: `${stem}${META_SUFFIX}` };
  }

  private tempPath(bucket: string): string {
    return join(this.dataDir, bucket, `${TEMP_PREFIX}${randomBytes(TEMP_RANDOM_BYTES).toString('hex')}`);
  }
}

function fileStem(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Bucket names cannot contain "/", so this is unique per (bucket, key). */
function lockId(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

function wholeSecondsIso(date: Date): string {
  return new Date(Math.floor(date.getTime() / MS_PER_SECOND) * MS_PER_SECOND).toISOString();
}

/**
 * Copies the request body into `file` with backpressure, hashing it with MD5. Past `limit` it stops writing and
 * keeps reading to discard the rest, so the client still gets to read the EntityTooLarge answer. Listening to
 * events rather than iterating matters: leaving a for-await loop early destroys the request, and with it the socket.
 */
function receiveBody(req: IncomingMessage, file: WriteStream, limit: number): Promise<{ size: number; md5: Buffer } | undefined> {
  const held = heldBody(req);
  if (held) {
    return held.then((body) =>
      body.length > limit
        ? undefined
        : new Promise((resolve, reject) => {
            file.once('error', reject);
            file.write(body, () => resolve({ size: body.length, md5: createHash('md5').update(body).digest() }));
          }),
    );
  }
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      file.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        resolve(undefined);
        return;
      }
      hash.update(chunk);
      if (!file.write(chunk)) {
        req.pause();
        file.once('drain', () => req.resume());
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ size, md5: hash.digest() });
    };
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      reject(new Error('The client closed the connection before sending the whole body'));
    };
    const onError = (error: Error) => {
      cleanup();
      req.resume();
      reject(error);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    file.once('error', onError);
  });
}

/** Runs tasks for the same id one after another. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.tails.set(id, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(id) === tail) this.tails.delete(id);
    }
  }
}
