import { checkDeployment, type DeploymentDependencies } from '../../../../shared/domain/doctor/deployment-checks';
import type { FunctionDoctorReport } from '../../../../shared/domain/doctor/report';
import type { DeployedTrigger } from '../../../../shared/domain/ports';

/** The upload trigger's filter against APP_ROUTES, IMAGE_SUFFIXES and the events that submit, as GetFunction / ListTriggers show it. */
const ENVIRONMENT = { APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}', ALLOWED_BUCKETS: 'yike-uploads' };
const ALL_EVENTS = ['oss:ObjectCreated:PutObject', 'oss:ObjectCreated:PostObject', 'oss:ObjectCreated:CompleteMultipartUpload', 'oss:ObjectCreated:CopyObject'];

function deployment(trigger: DeployedTrigger | undefined, environment: Record<string, string> = ENVIRONMENT): DeploymentDependencies {
  const report: FunctionDoctorReport = { yike: 'doctor', kind: 'oss-submit', checkedAt: '2026-12-02T00:00:00.000Z', checks: [], configuration: {} };
  return {
    functionNames: ['yike-oss-submit'],
    functions: {
      getFunction: async (name) => ({ functionName: name, state: 'Active', environmentVariables: environment }),
      listTriggers: async () => (trigger ? [trigger] : []),
    },
    invokeDoctor: async () => report,
    corsRules: async () => [],
    template: { skipped: 'not compared' },
  };
}

const ossTrigger = (filter: { prefix: string; suffix: string }, events: string[] = ALL_EVENTS): DeployedTrigger => ({
  triggerName: 'oss-upload',
  triggerType: 'oss',
  sourceArn: 'acs:oss:cn-shanghai:123:yike-uploads',
  triggerConfig: { events, filter: { key: filter } },
});

async function uploadTriggerLine(deps: DeploymentDependencies) {
  const { checks } = await checkDeployment(deps);
  return checks.find((check) => check.id === 'deploy.oss-trigger')!;
}

describe('the upload trigger against the configuration', () => {
  it('passes a trigger on uploads/ with no suffix and every creation event', async () => {
    // Act
    const line = await uploadTriggerLine(deployment(ossTrigger({ prefix: 'uploads/', suffix: '' })));

    // Assert
    expect(line).toMatchObject({ status: 'pass', functionName: 'yike-oss-submit' });
    expect(line.detail).toBe(
      'oss-upload on acs:oss:cn-shanghai:123:yike-uploads: prefix "uploads/", suffix "", 4 events; covers uploads/female/, uploads/male/ and .jpg, .jpeg, .png, .webp',
    );
  });

  it('fails a prefix that leaves an APP_ROUTES prefix out, and a suffix that lets only one image suffix through', async () => {
    // Act
    const line = await uploadTriggerLine(deployment(ossTrigger({ prefix: 'uploads/female/', suffix: '.jpg' })));

    // Assert
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(
      'oss-upload on acs:oss:cn-shanghai:123:yike-uploads: prefix "uploads/female/", suffix ".jpg", 4 events: APP_ROUTES uploads/male/ lie outside the trigger\'s prefix "uploads/female/" (those uploads never trigger); suffix ".jpg" lets no .jpeg, .png, .webp upload through (IMAGE_SUFFIXES)',
    );
    expect(line.fix).toBe(
      'make the trigger’s filter.key prefix cover every APP_ROUTES prefix and its suffix empty (s.yaml oss-upload), then npx s oss-submit deploy',
    );
  });

  it('fails a trigger that does not subscribe to PostObject, which the page’s uploads are', async () => {
    // Act
    const line = await uploadTriggerLine(deployment(ossTrigger({ prefix: 'uploads/', suffix: '' }, ['oss:ObjectCreated:PutObject'])));

    // Assert
    expect(line.status).toBe('fail');
    expect(line.detail).toContain('events PostObject, CompleteMultipartUpload, CopyObject (those that submit) are not subscribed');
  });

  it('fails a function without an OSS trigger: uploads never reach it', async () => {
    // Act
    const line = await uploadTriggerLine(deployment(undefined));

    // Assert
    expect(line).toMatchObject({ status: 'fail', detail: 'no OSS trigger: uploads never reach the function' });
  });
});
