import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler as createRenewalHandler } from '../../../../functions/budget-renewal/index';
import { createHandler } from '../../../../functions/oss-submit/index';
import type { BudgetAlertPayload } from '../../../../shared/domain/budget/alerts';
import { DAY_ONE, DAY_ONE_RESET, startBudgetCloud, type BudgetCloud } from '../../../helpers/budget-cloud';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { checkWebhookBody } from '../../../helpers/openapi-check';
import { fcContext, logCapture } from '../../../helpers/local-cloud';
import { verifiesWith, webhookSecret } from '../../../helpers/webhooks';

const SECRET = webhookSecret('budget-alerts');

describe('budget alerts: yike.budget.warning and yike.budget.exhausted, each once a day, through the job webhook', () => {
  let cloud: BudgetCloud;
  let receiver: Server;
  let receiverUrl: string;
  let up = true;
  const received: { body: BudgetAlertPayload; delivery?: string; signed: boolean; answered: number }[] = [];
  let clockMs = Date.parse(DAY_ONE);

  beforeAll(async () => {
    cloud = await startBudgetCloud('budget-alerts-');
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        const answered = up ? 204 : 503;
        checkWebhookBody(raw);
        received.push({
          body: JSON.parse(raw) as BudgetAlertPayload,
          delivery: req.headers['webhook-id'] as string | undefined,
          signed: verifiesWith(SECRET, raw, req.headers),
          answered,
        });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/budget`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
    await cloud.close();
  });

  const env = () => cloud.env({ JOB_BUDGET_PER_DAY: '5', JOB_WEBHOOK_URL: receiverUrl, JOB_WEBHOOK_SECRET: SECRET });
  const now = () => new Date(clockMs);
  // The warning at 60 % rather than 80 %: 3 of 5 jobs.
  const tuning = { budget: { warnPercent: 60 } };
  const tick = (sink?: (line: string) => void) => createRenewalHandler({ env: env(), tuning, now, sink })(asFcPayload(loadEvent('fc3-timer')), fcContext());
  const delivered = (type: string) => received.filter((entry) => entry.body.type === type && entry.answered === 204);

  async function submit(count: number): Promise<void> {
    const handler = createHandler({ env: env(), now });
    for (let i = 0; i < count; i++) await handler(await cloud.upload(`uploads/female/alert-${received.length}-${clockMs}-${i}.png`), fcContext());
  }

  it('sends the warning once when 60 % is used, however many runs look at once, and logs it as an error once', async () => {
    // Arrange: 3 of 5 used
    await submit(3);
    const logs = logCapture();

    // Act: two runs at once (a slow tick overlapping the next), then one more
    await Promise.all([tick(logs.sink), tick(logs.sink)]);
    await tick(logs.sink);

    // Assert
    expect(delivered('yike.budget.warning')).toHaveLength(1);
    const [warning] = delivered('yike.budget.warning');
    expect(warning!.signed).toBe(true);
    expect(warning!.delivery).toBe('budget.2026-12-02.warning');
    expect(warning!.body).toEqual({
      id: 'budget.2026-12-02.warning',
      type: 'yike.budget.warning',
      time: DAY_ONE,
      budget: { day: '2026-12-02', timezone: 'Asia/Shanghai', used: 3, limit: 5, remaining: 2, percent: 60, warnPercent: 60, resetsAt: DAY_ONE_RESET },
    });
    expect(delivered('yike.budget.exhausted')).toEqual([]);
    expect(logs.lines().filter((line) => line.message === 'yike.budget.warning')).toMatchObject([{ level: 'error', used: 3, limit: 5 }]);
  });

  it('retries the exhausted alert after a failed delivery with the same id and body, and delivers it exactly once', async () => {
    // Arrange: the budget is spent while the receiver is down
    await submit(2);
    up = false;
    await tick();
    const failed = received.filter((entry) => entry.body.type === 'yike.budget.exhausted');
    up = true;

    // Act: a run before the retry is due sends nothing; one after it delivers; later runs send nothing more
    await tick();
    clockMs += 2 * 60_000;
    await tick();
    await tick();

    // Assert
    expect(failed.map((entry) => entry.answered)).toEqual([503]);
    const all = received.filter((entry) => entry.body.type === 'yike.budget.exhausted');
    expect(all.map((entry) => entry.answered)).toEqual([503, 204]);
    expect(all[1]!.body).toEqual(all[0]!.body);
    expect(all[1]!.body.budget).toMatchObject({ used: 5, limit: 5, remaining: 0, percent: 100 });
    expect(delivered('yike.budget.warning')).toHaveLength(1);
  });
});
