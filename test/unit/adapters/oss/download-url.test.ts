import { downloadUrl } from '../../../../shared/adapters/oss/result-copier';

describe('which URL an output copy fetches (JOB_RESULTS copy: https only)', () => {
  it.each([
    ['https://outin-8f2c.oss-cn-shanghai.aliyuncs.com/yike/a.mp4', 'https://outin-8f2c.oss-cn-shanghai.aliyuncs.com/yike/a.mp4'],
    // ICE's documented OutputUrl examples are http on its OSS bucket: the same object over https.
    ['http://outin-8f2c.oss-cn-shanghai.aliyuncs.com/yike/a.mp4?x=1', 'https://outin-8f2c.oss-cn-shanghai.aliyuncs.com/yike/a.mp4?x=1'],
    ['http://outin-8f2c.oss-cn-shanghai-internal.aliyuncs.com/a.mp4', 'https://outin-8f2c.oss-cn-shanghai-internal.aliyuncs.com/a.mp4'],
    ['http://oss-cn-beijing.aliyuncs.com/bucket/a.mp4', 'https://oss-cn-beijing.aliyuncs.com/bucket/a.mp4'],
    // The local cloud answers http and https on one port.
    ['http://127.0.0.1:9100/__local/outputs/a.mp4', 'https://127.0.0.1:9100/__local/outputs/a.mp4'],
    ['https://cdn.example.com/a.mp4', 'https://cdn.example.com/a.mp4'],
  ])('fetches %s as %s', (given, fetched) => {
    expect(downloadUrl(given).href).toBe(fetched);
  });

  it.each([
    'http://cdn.example.com/a.mp4',
    'http://outin.oss-cn-shanghai.aliyuncs.com.evil.example/a.mp4',
    'http://ecs.cn-shanghai.aliyuncs.com/a.mp4',
    'ftp://outin.oss-cn-shanghai.aliyuncs.com/a.mp4',
    'not a url',
  ])('refuses %s with RESULT_URL_REFUSED, not retryable', (given) => {
    expect(() => downloadUrl(given)).toThrow(expect.objectContaining({ code: 'RESULT_URL_REFUSED', retryable: false }));
  });
});
