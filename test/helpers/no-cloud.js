/**
 * No test reaches Alibaba Cloud: in the test workers a name lookup of an aliyuncs.com host fails at once, as it does on
 * a machine without internet, whether or not this one has it (a function that derives its FC endpoint from the
 * context's account id, for one, would otherwise call the real FC from a machine that can).
 */
const dns = require('node:dns');

const lookup = dns.lookup;
dns.lookup = function lookupOffCloud(hostname, ...rest) {
  if (typeof hostname === 'string' && /(^|\.)aliyuncs\.com\.?$/i.test(hostname)) {
    const callback = rest.at(-1);
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (tests never reach the cloud)`), { code: 'ENOTFOUND', hostname });
    process.nextTick(callback, error);
    return {};
  }
  return lookup.call(this, hostname, ...rest);
};
