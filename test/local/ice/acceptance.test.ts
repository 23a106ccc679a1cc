import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { createIceClient, type IceClient } from '../../../shared/adapters/ice/client';
import { LOCAL_CREDENTIALS, putLocalObject, tempDir, testConfig } from '../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const IMAGE_KEY = 'LoadImage.1.TargetImage';
const URL = `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/uploads/real.png`;
const params = (image: string) => JSON.stringify({ [IMAGE_KEY]: image });

/** A local ICE that can disagree with us: it takes one image form (LOCAL_ICE_ACCEPTS) and may deny actions (Forbidden.RAM). */
describe('the local ICE endpoint takes one image form and can deny actions', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let client: IceClient;
  const dir = tempDir('ice-acceptance-');

  /** The three references of one image: its URL, its Yike asset id and its media-library id. */
  async function references(): Promise<Record<'url' | 'yike-asset' | 'media-id', string>> {
    const asset = (await client.invoke('RegisterYikeAssetMediaInfo', { query: { InputURL: URL, MediaType: 'image' } }, true)) as { MediaId: string };
    const media = (await client.invoke('RegisterMediaInfo', { query: { InputURL: URL, MediaType: 'image' } }, true)) as { MediaId: string };
    return { url: URL, 'yike-asset': asset.MediaId, 'media-id': media.MediaId };
  }
  const precheck = async (image: string) => client.precheckYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: params(image) });
  const submit = (image: string) => client.submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: params(image) }).catch((error: any) => error);

  beforeAll(async () => {
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url }, accepts: 'yike-asset', forbiddenActions: ['GetYikeAIAppJob'] });
    client = createIceClient({
      config: testConfig({ ICE_ENDPOINT: ice.url }, { ice: { retry: { maxAttempts: 1 } } }).ice,
      credentials: () => LOCAL_CREDENTIALS,
    });
    await putLocalObject(oss.url, BUCKET, 'uploads/real.png');
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => ice.reset());

  it.each([
    ['yike-asset', ['yike-asset']],
    ['media-id', ['media-id']],
    ['url', ['url']],
    ['any', ['url', 'yike-asset', 'media-id']],
  ] as const)(
    'taking %s, prechecks pass and submits are accepted only for that form; the others fail ImageCheckFailed and InvalidParameter',
    async (accepts, taken) => {
      // Arrange
      ice.setAccepts(accepts);
      const refs = await references();

      // Act
      const outcomes: Record<string, { precheck: string; submit: string }> = {};
      for (const [form, reference] of Object.entries(refs)) {
        const answer = await precheck(reference);
        const submitted = await submit(reference);
        outcomes[form] = {
          precheck: [answer.status, ...answer.issues.map((issue) => issue.errorCode)].join(' '),
          submit: submitted.jobId ? 'accepted' : submitted.code,
        };
      }

      // Assert
      expect(outcomes).toEqual(
        Object.fromEntries(
          Object.keys(refs).map((form) => [
            form,
            (taken as readonly string[]).includes(form)
              ? { precheck: 'Success', submit: 'accepted' }
              : { precheck: 'Failed ImageCheckFailed', submit: 'InvalidParameter' },
          ]),
        ),
      );
      expect(ice.jobs()).toHaveLength(taken.length);
    },
  );

  it('says why a submit in a refused form is refused', async () => {
    // Act
    const error = await submit(URL);

    // Assert
    expect(error).toMatchObject({
      code: 'InvalidParameter',
      statusCode: 400,
      message:
        'The specified parameter "AppParams" is not valid. "LoadImage.1.TargetImage" holds a URL, which this app does not take (local ICE accepts yike-asset).',
    });
  });

  it('answers 403 Forbidden.RAM for a denied action, naming it, and serves the others', async () => {
    // Act
    const denied = await client.getYikeAIAppJob('no-such-job').catch((error: any) => error);
    const served = await client.batchGetYikeAIAppJobs(['no-such-job']);

    // Assert
    expect(denied).toMatchObject({
      code: 'Forbidden.RAM',
      statusCode: 403,
      outcome: 'rejected',
      retryable: false,
      message: expect.stringContaining('ice:GetYikeAIAppJob'),
    });
    expect(served.jobs).toEqual([]);
  });

  it('switches the accepted form and the denied actions at run time through POST /__local/settings, and reset() restores the start options', async () => {
    // Act
    const changed = await fetch(`${ice.url}/__local/settings`, {
      method: 'POST',
      body: JSON.stringify({ accepts: 'media-id', forbiddenActions: ['PrecheckYikeAIAppJob'] }),
    });
    const refusedPrecheck = await precheck(URL).catch((error: any) => error);
    const refused = await fetch(`${ice.url}/__local/settings`, { method: 'POST', body: JSON.stringify({ accepts: 'pixels' }) });
    ice.reset();
    const restored = await fetch(`${ice.url}/__local/settings`);

    // Assert
    expect(await changed.json()).toEqual({ accepts: 'media-id', forbiddenActions: ['PrecheckYikeAIAppJob'] });
    expect(refusedPrecheck).toMatchObject({ code: 'Forbidden.RAM' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'accepts must be one of yike-asset, media-id, url, any, got "pixels"' });
    expect(await restored.json()).toEqual({ accepts: 'yike-asset', forbiddenActions: ['GetYikeAIAppJob'] });
  });
});
