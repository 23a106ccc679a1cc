import { createStackApi, type StackApi } from '../../../cli/deploy/stack';
import { templateText, type StackParameters } from '../../../cli/deploy/template';
import { LOCAL_STS_CREDENTIALS } from '../../../local/dev-fixtures';
import { startRosServer, type LocalRosServer } from '../../../local/ros/server';

/**
 * The local ROS, driven by the official SDK (@alicloud/ros20190910, through cli/deploy/stack.ts): it verifies what ROS
 * verifies (the ACS3 signature, each action's fields, the template and its parameters) and moves a stack through its
 * states one GetStack at a time.
 */
const PARAMETERS: StackParameters = {
  AccountId: '1234567890123456',
  Region: 'cn-shanghai',
  BucketName: 'my-yike-uploads',
  PageOrigin: '',
  NextFunctionName: '',
  EventBridgeUploads: 'false',
};
const parameters = (overrides: Record<string, string> = {}) => ({ ...PARAMETERS, ...overrides }) as unknown as Record<string, string>;

describe('the local ROS (API 2019-09-10), driven by the official SDK', () => {
  let ros: LocalRosServer;
  let api: StackApi;
  const noWait = async () => undefined;

  beforeEach(async () => {
    ros = await startRosServer();
    api = createStackApi({ region: 'cn-shanghai', credentials: LOCAL_STS_CREDENTIALS, endpoint: { endpoint: ros.endpoint, protocol: 'http' }, sleep: noWait });
  });
  afterEach(() => ros.close());

  it('creates a stack: CREATE_IN_PROGRESS, then CREATE_COMPLETE with its outputs', async () => {
    // Act
    const stackId = await api.create('yike-fc', templateText(), parameters());
    const seen: string[] = [];
    const state = await api.settle(stackId, (progress) => seen.push(progress.status));

    // Assert
    expect(seen).toEqual(['CREATE_IN_PROGRESS']);
    expect(state).toMatchObject({ stackId, status: 'CREATE_COMPLETE' });
    expect(state.outputs.RoleArn).toBe('acs:ram::1234567890123456:role/yike-fc-role');
    expect(ros.calls().map((call) => [call.action, call.status])).toEqual([
      ['CreateStack', 200],
      ['GetStack', 200],
      ['GetStack', 200],
    ]);
    // The SDK sends the fields in the query, Parameters.N flattened, the template in the form body.
    expect(ros.calls()[0]!.fields).toMatchObject({
      RegionId: 'cn-shanghai',
      StackName: 'yike-fc',
      TimeoutInMinutes: '60',
      'Parameters.1.ParameterKey': 'AccountId',
    });
  });

  it('finds a stack by name, and updates it; an update that changes nothing is "unchanged"', async () => {
    // Arrange
    const stackId = await api.create('yike-fc', templateText(), parameters());
    await api.settle(stackId);

    // Act
    const found = await api.find('yike-fc');
    const same = await api.update(stackId, templateText(), parameters());
    const changed = await api.update(stackId, templateText(), parameters({ PageOrigin: 'https://yike.example.com' }));
    const state = await api.settle(stackId);

    // Assert
    expect({ found, same, changed, status: state.status }).toEqual({ found: stackId, same: 'unchanged', changed: 'updating', status: 'UPDATE_COMPLETE' });
    expect(ros.stacks()[0]!.resolved.resources.UploadBucket!.properties.CORSConfiguration).toEqual({
      CORSRule: [{ AllowedOrigin: ['https://yike.example.com'], AllowedMethod: ['POST'], AllowedHeader: ['*'], MaxAgeSeconds: 600 }],
    });
  });

  it('deletes a stack keeping the resources asked for; then ROS knows it no more', async () => {
    // Arrange
    const stackId = await api.create('yike-fc', templateText(), parameters());
    await api.settle(stackId);

    // Act
    await api.remove(stackId, ['UploadBucket']);
    const state = await api.settle(stackId);
    const after = api.get(stackId);

    // Assert
    expect(state.status).toBe('DELETE_COMPLETE');
    expect(ros.stacks()[0]!.retained).toEqual(['UploadBucket']);
    await expect(after).rejects.toMatchObject({ code: 'StackNotFound' });
  });

  it.each([
    ['a parameter the template does not declare', parameters({ Extra: 'x' }), 'UnknownUserParameter'],
    ['a missing parameter without a default', (({ AccountId: _, ...rest }) => rest)(parameters()), 'UserParameterMissing'],
    ['a parameter outside its AllowedPattern', parameters({ BucketName: 'Not_A_Bucket' }), 'StackValidationFailed'],
    ['a region outside AllowedValues', parameters({ Region: 'eu-central-1' }), 'StackValidationFailed'],
  ])('refuses %s', async (_what, given, code) => {
    await expect(api.create('yike-fc', templateText(), given)).rejects.toMatchObject({ code });
    expect(ros.stacks()).toEqual([]);
  });

  it('refuses a template that breaks a resource type, a name ROS does not take, and a second stack of one name', async () => {
    // Arrange
    const broken = JSON.parse(templateText());
    broken.Resources.UploadBucket.Properties.AccessControl = 'open';
    await api.create('yike-fc', templateText(), parameters());

    // Act / Assert
    await expect(api.create('other', JSON.stringify(broken), parameters())).rejects.toMatchObject({
      code: 'StackValidationFailed',
      message: expect.stringContaining('UploadBucket.AccessControl must be one of private, public-read, public-read-write'),
    });
    await expect(api.create('-bad-name', templateText(), parameters())).rejects.toMatchObject({ code: 'InvalidStackName' });
    await expect(api.create('yike-fc', templateText(), parameters())).rejects.toMatchObject({ code: 'StackExists' });
  });

  it('refuses an update while an action is in progress, and an unknown stack', async () => {
    // Arrange
    const stackId = await api.create('yike-fc', templateText(), parameters());

    // Act / Assert
    await expect(api.update(stackId, templateText(), parameters({ PageOrigin: 'https://a.example.com' }))).rejects.toMatchObject({ code: 'ActionInProgress' });
    await expect(api.get('no-such-stack')).rejects.toMatchObject({ code: 'StackNotFound' });
  });

  it('refuses a request signed with the wrong secret, as ROS refuses a bad ACS3 signature', async () => {
    // Arrange
    const wrong = createStackApi({
      region: 'cn-shanghai',
      credentials: { ...LOCAL_STS_CREDENTIALS, accessKeySecret: 'not-the-secret' },
      endpoint: { endpoint: ros.endpoint, protocol: 'http' },
    });

    // Act / Assert
    await expect(wrong.find('yike-fc')).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});
