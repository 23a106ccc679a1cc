import { buildAppParams, createAppRegistry, routedApp, unknownAppPrefix } from '../../../../shared/domain/jobs/apps';
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

  it('requires an app: a missing one is APP_REQUIRED naming the field (there is no default app)', () => {
    // Act
    const missing = () => createAppRegistry().require(undefined, '--app');

    // Assert
    expect(missing).toThrow(expect.objectContaining({ code: 'APP_REQUIRED', details: [{ path: '--app', message: 'required' }] }));
    expect(createAppRegistry().require('male').appId).toBe('sys-ao-smith-2');
  });

  it('routes a key by its longest APP_ROUTES prefix, and a key under none to no app at all', () => {
    // Arrange
    const routes = { 'uploads/': 'female', 'uploads/male/': 'male' };

    // Act / Assert
    expect(routedApp('uploads/male/a.png', routes)).toBe('male');
    expect(routedApp('uploads/other/a.png', routes)).toBe('female');
    expect(routedApp('elsewhere/a.png', routes)).toBeUndefined();
    expect(unknownAppPrefix('elsewhere/a.png', routes)).toMatchObject({
      code: 'UNKNOWN_APP_PREFIX',
      message: 'elsewhere/a.png is under no APP_ROUTES prefix (APP_ROUTES names "uploads/", "uploads/male/"): not submitted to any app',
    });
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
