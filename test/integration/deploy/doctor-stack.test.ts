import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStackApi } from '../../../cli/deploy/stack';
import { templateText } from '../../../cli/deploy/template';
import { readStack } from '../../../cli/doctor/stack';
import { LOCAL_STS_CREDENTIALS } from '../../../local/dev-fixtures';
import { startRosServer, type LocalRosServer } from '../../../local/ros/server';
import { checkDeployment, type DeploymentDependencies, type StackReading } from '../../../shared/domain/doctor/deployment-checks';
import { tempDir } from '../../helpers/local-cloud';

/** `npx yike-doctor`'s deploy.stack line: the stack npm run deploy recorded, read from the (local) ROS, or what is missing. */
const ACCOUNT = '1234567890123456';
const PARAMETERS = {
  AccountId: ACCOUNT,
  Region: 'cn-shanghai',
  BucketName: 'my-yike-uploads',
  PageOrigin: '',
  NextFunctionName: '',
  EventBridgeUploads: 'false',
};

async function stackLine(stack: StackReading) {
  const deps: DeploymentDependencies = {
    functionNames: [],
    functions: { getFunction: async () => undefined, listTriggers: async () => [] },
    invokeDoctor: async () => {
      throw new Error('no function');
    },
    corsRules: async () => [],
    template: { skipped: 'not compared' },
    stack,
  };
  return (await checkDeployment(deps)).checks.find((check) => check.id === 'deploy.stack')!;
}

describe("the doctor's deploy.stack line", () => {
  let ros: LocalRosServer;
  let clone: ReturnType<typeof tempDir>;
  const api = () =>
    createStackApi({
      region: 'cn-shanghai',
      credentials: LOCAL_STS_CREDENTIALS,
      endpoint: { endpoint: ros.endpoint, protocol: 'http' },
      sleep: async () => undefined,
    });
  const record = (answers: Record<string, unknown>) => {
    mkdirSync(join(clone.path, '.yike'), { recursive: true });
    writeFileSync(
      join(clone.path, '.yike', 'deploy.json'),
      JSON.stringify({ region: 'cn-shanghai', accountId: ACCOUNT, bucket: 'my-yike-uploads', ...answers }),
    );
  };

  beforeEach(async () => {
    ros = await startRosServer({ accountId: ACCOUNT });
    clone = tempDir('doctor-stack-');
  });
  afterEach(async () => {
    await ros.close();
    clone.remove();
  });

  it("reads the recorded stack's outputs and passes when every one s.yaml reads is there", async () => {
    // Arrange
    const stackId = await api().create('yike-fc', templateText(), PARAMETERS);
    await api().settle(stackId);
    record({ stackId });

    // Act
    const line = await stackLine(await readStack(clone.path, {}, api));

    // Assert
    expect(line).toMatchObject({ status: 'pass', required: true });
    expect(line.detail).toBe(
      `yike-fc CREATE_COMPLETE: RoleArn acs:ram::${ACCOUNT}:role/yike-fc-role, BucketName my-yike-uploads, OssTriggerRoleArn acs:ram::${ACCOUNT}:role/yike-oss-trigger-role, SubmittedQueueArn acs:mns:cn-shanghai:${ACCOUNT}:/queues/yike-jobs-submitted, FailedQueueArn acs:mns:cn-shanghai:${ACCOUNT}:/queues/yike-jobs-failed`,
    );
  });

  it('says what is missing: no record, no stack, a stack still in progress, an output it lacks', async () => {
    // Arrange
    const noRecord = await stackLine(await readStack(clone.path, {}, api));
    record({});
    const noStack = await stackLine(await readStack(clone.path, {}, api));
    const stackId = await api().create('yike-fc', templateText(), PARAMETERS);
    const inProgress = await stackLine(await readStack(clone.path, {}, api));

    // Act
    const lacking = await stackLine({
      name: 'yike-fc',
      status: 'UPDATE_COMPLETE',
      outputs: { RoleArn: 'acs:ram::1:role/r' },
      needed: ['RoleArn', 'BucketName'],
    });

    // Assert
    expect(noRecord).toMatchObject({ status: 'skip', detail: expect.stringContaining('no .yike/deploy.json') });
    expect(noStack).toMatchObject({
      status: 'fail',
      detail: 'no stack yike-fc in cn-shanghai',
      fix: 'npm run deploy (it creates the stack: docs/first-deploy.md)',
    });
    expect(inProgress).toMatchObject({ status: 'fail', detail: 'yike-fc is CREATE_IN_PROGRESS' });
    expect(lacking).toMatchObject({ status: 'fail', detail: 'yike-fc (UPDATE_COMPLETE) has no output BucketName' });
    expect(stackId).toBeTruthy();
  });
});
