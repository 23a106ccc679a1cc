import { createIceClient } from '../../../shared/adapters/ice/client';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { LOCAL_CREDENTIALS, testConfig } from '../../helpers/local-cloud';

const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';
const APP_PARAMS = JSON.stringify({ 'LoadImage.1.TargetImage': IMAGE_URL });

/**
 * Where the official ICE SDK puts each field of the actions we send: @alicloud/ice20201109 6.20.2,
 * aliyun/alibabacloud-typescript-sdk ice-20201109/src/client.ts (docs/platform-facts.md, "Where each field travels").
 */
const SDK_PLACEMENT = {
  GetMediaInfo: { InputURL: 'query' },
  RegisterMediaInfo: { InputURL: 'query', MediaType: 'query' },
  RegisterYikeAssetMediaInfo: { InputURL: 'query', MediaType: 'query' },
  GetYikeAssetMediaInfo: { MediaId: 'query' },
  PrecheckYikeAIAppJob: { AppId: 'query', AppParams: 'query' },
  SubmitYikeAIAppJob: { AppId: 'body', AppParams: 'body', ProductionId: 'body', FolderId: 'body' },
  GetYikeAIAppJob: { JobId: 'query' },
  BatchGetYikeAIAppJob: { JobIds: 'query' },
};

describe('where the ICE client puts each request field: as the official ice-20201109 SDK does', () => {
  let ice: LocalIceServer;
  beforeAll(async () => {
    ice = await startIceServer();
  });
  afterAll(() => ice.close());
  beforeEach(() => ice.reset());

  const client = () => createIceClient({ config: testConfig({ ICE_ENDPOINT: ice.url }).ice, credentials: () => LOCAL_CREDENTIALS });

  it('sends RegisterMediaInfo with InputURL and MediaType in the query and nothing in the form body', async () => {
    // Act
    const mediaId = await client().resolveMediaId(IMAGE_URL);

    // Assert
    const register = ice.calls().find((call) => call.action === 'RegisterMediaInfo');
    expect(register).toMatchObject({ status: 200, fields: { InputURL: IMAGE_URL, MediaType: 'image' } });
    expect(register!.placement).toEqual({ InputURL: 'query', MediaType: 'query' });
    expect(ice.media()).toEqual([expect.objectContaining({ mediaId, inputUrl: IMAGE_URL, mediaType: 'image' })]);
  });

  it('sends every action the client calls with its fields where the SDK puts them: the form body for a submit, the query for the rest', async () => {
    // Arrange
    const ice20201109 = client();

    // Act
    await ice20201109.resolveMediaId(IMAGE_URL);
    const asset = await ice20201109.registerYikeAsset({ inputUrl: IMAGE_URL });
    await ice20201109.getYikeAssetAudit(asset.mediaId);
    await ice20201109.precheckYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });
    const { jobId } = await ice20201109.submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS, productionId: 'pd-1', folderId: 'fd-cReaEcVqQK' });
    await ice20201109.getYikeAIAppJob(jobId);
    await ice20201109.batchGetYikeAIAppJobs([jobId]);

    // Assert
    expect(ice.calls().map((call) => [call.action, call.status, call.placement])).toEqual([
      ['GetMediaInfo', 404, SDK_PLACEMENT.GetMediaInfo],
      ['RegisterMediaInfo', 200, SDK_PLACEMENT.RegisterMediaInfo],
      ['RegisterYikeAssetMediaInfo', 200, SDK_PLACEMENT.RegisterYikeAssetMediaInfo],
      ['GetYikeAssetMediaInfo', 200, SDK_PLACEMENT.GetYikeAssetMediaInfo],
      ['PrecheckYikeAIAppJob', 200, SDK_PLACEMENT.PrecheckYikeAIAppJob],
      ['SubmitYikeAIAppJob', 200, SDK_PLACEMENT.SubmitYikeAIAppJob],
      ['GetYikeAIAppJob', 200, SDK_PLACEMENT.GetYikeAIAppJob],
      ['BatchGetYikeAIAppJob', 200, SDK_PLACEMENT.BatchGetYikeAIAppJob],
    ]);
  });
});
