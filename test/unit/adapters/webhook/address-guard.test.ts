import { internalRangeOf } from '../../../../shared/adapters/webhook/addresses';
import { deliverWebhook } from '../../../../shared/adapters/webhook/webhook';
import { webhookSecret } from '../../../helpers/webhooks';

/** The sender's address guard for URLs a caller chose: every DNS answer checked before any connection is made. */
const SECRET = webhookSecret('address-guard');
const deliver = (url: string, answers: string[] | Error) =>
  deliverWebhook({
    url,
    secret: SECRET,
    body: '{}',
    deliveryId: 'job-1.finished',
    timeoutMs: 5_000,
    guard: {
      resolve: async () => {
        if (answers instanceof Error) throw answers;
        return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      },
    },
  });

describe('the address guard of per-job webhooks', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local (private)'],
    ['100.100.100.200', "shared: the cloud's internal services"],
    ['0.0.0.0', 'unspecified'],
    ['64:ff9b::a00:1', 'NAT64, an IPv4 address inside'],
    ['224.0.0.1', 'multicast'],
  ])('counts %s as leading inside (%s)', (address, kind) => {
    expect(internalRangeOf(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '47.100.1.1', '::ffff:8.8.8.8', '2404:6800:4008::200e', '172.32.0.1'])('counts %s as public', (address) => {
    expect(internalRangeOf(address)).toBeUndefined();
  });

  it('refuses a host when any one of its answers leads inside, naming it, before connecting anywhere', async () => {
    expect(await deliver('https://hooks.example.com/yike', ['8.8.8.8', '10.0.0.7'])).toEqual({
      ok: false,
      error: 'WEBHOOK_ADDRESS_REFUSED: hooks.example.com resolves to 10.0.0.7 (private) (https://hooks.example.com)',
      refused: true,
    });
  });

  it('refuses an IPv4-mapped IPv6 answer for loopback, and an IP literal in the URL without asking DNS', async () => {
    expect(await deliver('https://hooks.example.com/yike', ['::ffff:127.0.0.1'])).toMatchObject({
      error: 'WEBHOOK_ADDRESS_REFUSED: hooks.example.com resolves to ::ffff:127.0.0.1 (loopback) (https://hooks.example.com)',
      refused: true,
    });
    expect(await deliver('https://[::ffff:a9fe:a9fe]/latest/meta-data', new Error('DNS must not be asked'))).toMatchObject({
      error: 'WEBHOOK_ADDRESS_REFUSED: [::ffff:a9fe:a9fe] resolves to ::ffff:a9fe:a9fe (link-local) (https://[::ffff:a9fe:a9fe])',
      refused: true,
    });
  });

  it('keeps a failed lookup a failure to retry later, not a refusal', async () => {
    expect(await deliver('https://gone.example.com/yike', Object.assign(new Error('no such host'), { code: 'ENOTFOUND' }))).toEqual({
      ok: false,
      error: 'ENOTFOUND (https://gone.example.com)',
    });
  });
});
