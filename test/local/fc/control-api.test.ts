import { createFunctionDirectory } from '../../../shared/adapters/fc/control';
import { parseConfig } from '../../../shared/runtime/config';
import { startFcInvokeServer, type LocalFcInvokeServer } from '../../../local/fc/invoke-server';
import { LOCAL_CREDENTIALS } from '../../helpers/local-cloud';

/** The local FC API's GetFunction and ListTriggers (2023-03-30), through the project's adapter on openapi-client. */
describe('the local FC control API', () => {
  let fc: LocalFcInvokeServer;
  const directory = (credentials = { ...LOCAL_CREDENTIALS }) =>
    createFunctionDirectory({ config: parseConfig({ FC_ENDPOINT: fc.url }).fc, credentials: () => credentials });

  beforeAll(async () => {
    fc = await startFcInvokeServer({
      functions: { 'yike-job-watcher': async () => ({}), 'yike-oss-submit': async () => ({}) },
      contextCredentials: { ...LOCAL_CREDENTIALS },
      definitions: {
        'yike-job-watcher': {
          memorySize: 256,
          environmentVariables: { RECORDS_BUCKET: 'yike-uploads' },
          triggers: [
            { triggerName: 'every-minute', triggerType: 'timer', triggerConfig: { cronExpression: '0 * * * * *', enable: true } },
            { triggerName: 'another', triggerType: 'timer', triggerConfig: { cronExpression: '@every 5m', enable: false } },
          ],
        },
      },
    });
  });
  afterAll(() => fc.close());

  it('answers GetFunction with the function as s.yaml deployed it, and FunctionNotFound for another name', async () => {
    // Act
    const found = await directory().getFunction('yike-job-watcher');
    const missing = await directory().getFunction('yike-nope');

    // Assert
    expect(found).toMatchObject({
      functionName: 'yike-job-watcher',
      runtime: 'nodejs20',
      handler: 'index.handler',
      state: 'Active',
      lastUpdateStatus: 'Successful',
      environmentVariables: { RECORDS_BUCKET: 'yike-uploads' },
    });
    expect(missing).toBeUndefined();
  });

  it('answers ListTriggers in name order with triggerConfig parsed from the JSON string FC sends', async () => {
    // Act
    const triggers = await directory().listTriggers('yike-job-watcher');

    // Assert
    expect(triggers.map((trigger) => [trigger.triggerName, trigger.triggerType, trigger.triggerConfig])).toEqual([
      ['another', 'timer', { cronExpression: '@every 5m', enable: false }],
      ['every-minute', 'timer', { cronExpression: '0 * * * * *', enable: true }],
    ]);
    expect(await directory().listTriggers('yike-oss-submit')).toEqual([]);
  });

  it('refuses a wrong secret with SignatureDoesNotMatch, as every FC API call', async () => {
    // Act
    const refused = directory({ ...LOCAL_CREDENTIALS, accessKeySecret: 'rotated-away' }).getFunction('yike-job-watcher');

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('refuses an unsigned ListTriggers with an FC error body', async () => {
    // Act
    const response = await fetch(`${fc.url}/2023-03-30/functions/yike-job-watcher/triggers`);

    // Assert
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.json()).toMatchObject({ Code: expect.any(String), RequestId: expect.any(String) });
    expect(await directory().listTriggers('yike-job-watcher')).toHaveLength(2);
  });
});
