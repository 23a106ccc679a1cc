import { buildAppParams, createAppRegistry } from '../../../../shared/domain/jobs/apps';
import { InputError } from '../../../../shared/runtime/errors';

describe('the Yike app registry', () => {
  it('resolves the friendly names to the AOSmith apps and their image parameter', () => {
    // Arrange
    const registry = createAppRegistry();

    // Act / Assert
    expect(registry.resolve('female')).toMatchObject({ appId: 'sys-ao-smith-1', imageParamKey: 'LoadImage.1.TargetImage' });
    expect(registry.resolve('male')).toMatchObject({ appId: 'sys-ao-smith-2', imageParamKey: 'LoadImage.1.TargetImage' });
    expect(registry.resolve('sys-ao-smith-2').appId).toBe('sys-ao-smith-2');
  });

  it('accepts further apps from configuration with their own image key', () => {
    // Arrange
    const registry = createAppRegistry({ 'my-yike-app': 'LoadImage.3.Portrait' });

    // Act
    const app = registry.resolve('my-yike-app');

    // Assert
    expect(buildAppParams(app, 'https://b.oss-cn-shanghai.aliyuncs.com/a.jpg')).toBe('{"LoadImage.3.Portrait":"https://b.oss-cn-shanghai.aliyuncs.com/a.jpg"}');
  });

  it('rejects an unknown app with an error that names the field and the value', () => {
    // Arrange
    const registry = createAppRegistry();

    // Act
    let caught: unknown;
    try {
      registry.resolve('robot', 'app');
    } catch (error) {
      caught = error;
    }

    // Assert
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({ code: 'UNKNOWN_APP', details: [{ path: 'app', message: 'unknown app "robot"' }] });
  });

  it('builds AppParams as exact JSON, keeping every special character of the image reference', () => {
    // Arrange
    const app = createAppRegistry().resolve('female');
    const url = 'https://b.oss-cn-shanghai.aliyuncs.com/%E5%9B%BE%20a+b%25!*\'()"\\.jpg';

    // Act
    const params = buildAppParams(app, url);

    // Assert
    expect(params).toBe(JSON.stringify({ 'LoadImage.1.TargetImage': url }));
    expect(JSON.parse(params)).toEqual({ 'LoadImage.1.TargetImage': url });
  });
});
