import { createOssClient } from '../../../shared/adapters/oss/client';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import { claimSlot, countUsed, reclaimAbandoned, releaseSlot, slotKey, type CounterMemo } from '../../../shared/domain/budget/counter';
import type { RecordStore } from '../../../shared/domain/ports';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { LOCAL_CREDENTIALS, tempDir, testConfig } from '../../helpers/local-cloud';
import { gate } from '../../helpers/waiting';

const BUCKET = 'records-bucket';

describe('the budget counter: numbered create-only slots in OSS', () => {
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let store: RecordStore;
  /**
   * A client that gives up after 2 s, for the claim whose answer the server holds until the test releases it: its
   * other requests (a local round trip) never come near that, however busy the machine.
   */
  let impatientStore: RecordStore;
  let n = 0;
  const nextCounter = (limit: number) => ({ prefix: `.yike-jobs/budget/test-${++n}/`, limit });

  beforeAll(async () => {
    dir = tempDir('budget-counter-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    const config = testConfig({ OSS_ENDPOINT: oss.localhostUrl });
    store = createOssRecordStore(createOssClient(config.oss, LOCAL_CREDENTIALS, BUCKET));
    impatientStore = createOssRecordStore(createOssClient(config.oss, LOCAL_CREDENTIALS, BUCKET, 2_000));
  });
  afterEach(() => oss.faults.clear());
  afterAll(async () => {
    await oss.close();
    dir.remove();
  });

  const requestsUnder = (prefix: string) => oss.requests().filter((request) => request.key?.startsWith(prefix) || request.key === undefined);

  it('gives a warm instance its slots with one conditional PUT each, then answers full without writing', async () => {
    // Arrange
    const counter = nextCounter(5);
    const memo: CounterMemo = new Map();
    const before = oss.requests().length;

    // Act
    const claimed: (number | undefined)[] = [];
    for (let i = 0; i < 6; i++) claimed.push((await claimSlot(store, counter, `item-${i}`, { memo })).slot?.number);
    const requests = oss.requests().slice(before);

    // Assert
    expect(claimed).toEqual([1, 2, 3, 4, 5, undefined]);
    // 1 hint read (cold), 5 claims, then the sixth: one listing and no write.
    expect(requests.map((request) => `${request.method} ${request.status}`)).toEqual([
      'GET 404',
      'PUT 200',
      'PUT 200',
      'PUT 200',
      'PUT 200',
      'PUT 200',
      'GET 200',
    ]);
    expect(await countUsed(store, counter)).toBe(5);
  });

  it('never gives more slots than the limit to 40 claimants racing for 10, each number to one of them', async () => {
    // Arrange
    const counter = nextCounter(10);

    // Act: 40 cold instances (no memo), all at once
    const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => claimSlot(store, counter, `item-${i}`)));

    // Assert
    const numbers = claims.flatMap((claim) => (claim.slot ? [claim.slot.number] : []));
    expect(numbers.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await countUsed(store, counter)).toBe(10);
  });

  it('counts a released slot no more and lets the next claimant take the number past the limit, never reusing it', async () => {
    // Arrange
    const counter = nextCounter(2);
    const first = (await claimSlot(store, counter, 'a')).slot!;
    await claimSlot(store, counter, 'b');

    // Act
    const released = await releaseSlot(store, first, new Date());
    const third = (await claimSlot(store, counter, 'c')).slot;
    const fourth = (await claimSlot(store, counter, 'd')).slot;

    // Assert
    expect(released).toBe(true);
    expect(third?.number).toBe(3);
    expect(fourth).toBeUndefined();
    expect(await countUsed(store, counter)).toBe(2);
    expect(await store.get(slotKey(counter, 1))).toMatchObject({ owner: first.owner, for: 'a' });
  });

  it('reads a claim back when OSS stored it but the answer was lost, and keeps the slot it owns', async () => {
    // Arrange
    const counter = nextCounter(3);
    oss.faults.pickWith((request) => (request.method === 'PUT' && request.key === slotKey(counter, 1) ? { kind: 'reset' } : undefined));

    // Act
    const { slot: claim, abandoned } = await claimSlot(store, counter, 'reset-after-store');

    // Assert
    expect(claim?.number).toBe(1);
    expect(abandoned).toEqual([]);
    expect(await store.get(slotKey(counter, 1))).toMatchObject({ owner: claim!.owner });
    expect(await countUsed(store, counter)).toBe(1);
  });

  it('gives up a number whose claim answered too late, and releases it once its write has landed as ours: the day is never over, nor short', async () => {
    // Arrange: the first claim is held past the client's timeout (until the test releases it), then stored anyway
    const counter = nextCounter(2);
    const hold = gate();
    let held = false;
    oss.faults.pickWith((request) => {
      if (held || request.method !== 'PUT' || request.key !== slotKey(counter, 1)) return undefined;
      held = true;
      return { kind: 'delay', until: hold.opened };
    });

    // Act
    const claim = await claimSlot(impatientStore, counter, 'slow');
    hold.open();
    await oss.idle();
    const whileLeaked = (await claimSlot(store, counter, 'x')).slot;
    const reclaimed = await reclaimAbandoned(store, claim.abandoned, new Date());
    const afterwards = await Promise.all([claimSlot(store, counter, 'y'), claimSlot(store, counter, 'z')]);

    // Assert: number 1 was ours after all (never used): released, so number 3 goes to one more job, and no further
    expect(claim.slot?.number).toBe(2);
    expect(claim.abandoned.map((slot) => slot.number)).toEqual([1]);
    expect(whileLeaked).toBeUndefined();
    expect(reclaimed).toBe(1);
    expect(afterwards.map((result) => result.slot?.number).sort()).toEqual([3, undefined]);
    expect(await countUsed(store, counter)).toBe(2);
  });

  it('fails retryably, without a slot, when OSS keeps failing the claims', async () => {
    // Arrange
    const counter = nextCounter(5);
    oss.faults.pickWith((request) => (request.key?.startsWith(counter.prefix) ? { kind: 'fail', status: 503, code: 'SlowDown' } : undefined));

    // Act
    const claiming = claimSlot(store, counter, 'down');

    // Assert
    await expect(claiming).rejects.toMatchObject({ code: 'RECORD_STORE_FAILED', retryable: true });
    oss.faults.clear();
    expect(requestsUnder(counter.prefix).length).toBeGreaterThan(0);
    expect(await countUsed(store, counter)).toBe(0);
  });
});
