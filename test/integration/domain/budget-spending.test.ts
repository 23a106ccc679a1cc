import { createOssClient } from '../../../shared/adapters/oss/client';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import { countUsed } from '../../../shared/domain/budget/counter';
import { budgetPrefix, createSpendingLimit, tokenCounterPrefix } from '../../../shared/domain/budget/spending';
import type { RecordStore } from '../../../shared/domain/ports';
import { IceError } from '../../../shared/runtime/errors';
import { createLogger } from '../../../shared/runtime/logger';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { LOCAL_CREDENTIALS, logCapture, tempDir, testConfig } from '../../helpers/local-cloud';

const BUCKET = 'records-bucket';
const NOON = new Date('2026-12-02T04:00:00.000Z');
const DAY = '2026-12-02';

describe('the spending limit around one submit', () => {
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let store: RecordStore;
  let n = 0;

  beforeAll(async () => {
    dir = tempDir('budget-spending-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    store = createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
  });
  afterAll(async () => {
    await oss.close();
    dir.remove();
  });

  /** A spending limit in a fresh records prefix, its clock at noon in Shanghai (the day opened: nothing waits). */
  function limit(settings: { perDay?: number; tokenQuotas?: Record<string, number> }) {
    const recordsPrefix = `.spending-${++n}/`;
    const logs = logCapture();
    const spending = createSpendingLimit({
      store,
      recordsPrefix,
      settings: { timeZone: 'Asia/Shanghai', tokenQuotas: {}, ...settings },
      logger: createLogger({ sink: logs.sink }),
      now: () => NOON,
    });
    return { spending, recordsPrefix, logs };
  }
  const job = async () => ({ jobId: 'job', requestId: 'req' });

  it('gives the slot back when ICE refused the submit (no job exists), and keeps it when ICE may have made the job', async () => {
    // Arrange
    const { spending, recordsPrefix } = limit({ perDay: 5 });
    const refused = () => Promise.reject(new IceError('InvalidParameter', 'bad AppParams', 'rejected', { statusCode: 400 }));
    const unanswered = () => Promise.reject(new IceError('ICE_TIMEOUT', 'no answer', 'unknown', { retryable: true }));

    // Act
    await expect(spending.spend({ source: 'a' }, refused)).rejects.toMatchObject({ code: 'InvalidParameter' });
    await expect(spending.spend({ source: 'b' }, unanswered)).rejects.toMatchObject({ code: 'ICE_TIMEOUT' });
    await spending.spend({ source: 'c' }, job);

    // Assert: the refused submit's slot is released; the unanswered one still counts (its job may exist)
    expect(await countUsed(store, { prefix: budgetPrefix(recordsPrefix, DAY) })).toBe(2);
    expect(oss.listKeys(BUCKET).filter((key) => key.startsWith(`${budgetPrefix(recordsPrefix, DAY)}slots/`))).toEqual([
      `${recordsPrefix}budget/${DAY}/slots/00000001`,
      `${recordsPrefix}budget/${DAY}/slots/00000001.released`,
      `${recordsPrefix}budget/${DAY}/slots/00000002`,
      `${recordsPrefix}budget/${DAY}/slots/00000003`,
    ]);
  });

  it('refuses past the quota before the budget, and gives the quota back when the budget then says no', async () => {
    // Arrange: a budget of 1, alice's quota of 2
    const { spending, recordsPrefix } = limit({ perDay: 1, tokenQuotas: { alice: 2 } });
    await spending.spend({ token: 'alice' }, job);

    // Act
    const overBudget = spending.spend({ token: 'alice' }, job);

    // Assert
    await expect(overBudget).rejects.toMatchObject({ code: 'BUDGET_EXHAUSTED', statusCode: 429, details: { reason: 'budget', limit: 1 } });
    expect(await countUsed(store, { prefix: tokenCounterPrefix(recordsPrefix, DAY, 'alice') })).toBe(1);
  });

  it('never calls the submit when refused, and counts an operator\u2019s release over the budget as an override', async () => {
    // Arrange
    const { spending, recordsPrefix } = limit({ perDay: 1 });
    await spending.spend({}, job);
    let called = 0;

    // Act
    await expect(
      spending.spend({}, async () => {
        called++;
        return job();
      }),
    ).rejects.toMatchObject({ code: 'BUDGET_EXHAUSTED' });
    await spending.spend({ overBudget: true, source: 'released by hand' }, job);

    // Assert
    expect(called).toBe(0);
    expect(await countUsed(store, { prefix: budgetPrefix(recordsPrefix, DAY) })).toBe(2);
  });
});
