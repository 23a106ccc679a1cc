import { functionsApiOf } from '../../../shared/composition/services';
import { parseConfig } from '../../../shared/runtime/config';

/** Where a function calls the FC API (the next function, the doctor's GetFunction): FC_REGION is ICE_REGION or its own. */
describe('the FC API a function calls', () => {
  const context = { accountId: '1234567890123456', region: 'cn-hangzhou' };

  it('takes the account and the region of its own FC context when neither FC_ENDPOINT nor FC_ACCOUNT_ID is set', () => {
    // Act
    const api = functionsApiOf(parseConfig({ ICE_REGION: 'cn-shanghai' }).fc, context);

    // Assert
    expect(api).toEqual({ region: 'cn-hangzhou', accountId: undefined, endpoint: '1234567890123456.cn-hangzhou.fc.aliyuncs.com', protocol: 'https' });
  });

  it('calls FC_ACCOUNT_ID in ICE_REGION, and FC_ENDPOINT as given, whatever the context says', () => {
    // Act
    const byAccount = functionsApiOf(parseConfig({ ICE_REGION: 'cn-shanghai', FC_ACCOUNT_ID: '999999999' }).fc, context);
    const byEndpoint = functionsApiOf(parseConfig({ FC_ENDPOINT: 'http://127.0.0.1:9300' }).fc, context);

    // Assert
    expect(byAccount).toMatchObject({ region: 'cn-shanghai', endpoint: '999999999.cn-shanghai.fc.aliyuncs.com', protocol: 'https' });
    expect(byEndpoint).toMatchObject({ endpoint: '127.0.0.1:9300', protocol: 'http' });
  });

  it('has none outside FC without FC_ACCOUNT_ID or FC_ENDPOINT', () => {
    expect(functionsApiOf(parseConfig({}).fc, undefined)).toBeUndefined();
  });
});
