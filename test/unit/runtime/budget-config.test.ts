import { parseConfig } from '../../../shared/runtime/config';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('the budget and token quotas from environment variables', () => {
  it('sets no limit and counts in Asia/Shanghai days when nothing is set', () => {
    // Act
    const config = parseConfig({});

    // Assert
    expect(config.budget).toEqual({ perDay: undefined, timeZone: 'Asia/Shanghai', warnPercent: 80, tokenQuotas: {}, price: undefined });
  });

  it('reads the budget, its time zone and the price with its currency', () => {
    // Act
    const config = parseConfig({ JOB_BUDGET_PER_DAY: '500', BUDGET_TIMEZONE: 'Europe/Berlin', JOB_PRICE: '0.35 USD' });

    // Assert
    expect(config.budget).toEqual({ perDay: 500, timeZone: 'Europe/Berlin', warnPercent: 80, tokenQuotas: {}, price: { perJob: 0.35, currency: 'USD' } });
  });

  it('takes a JOB_PRICE without a currency as CNY', () => {
    expect(parseConfig({ JOB_PRICE: '12' }).budget.price).toEqual({ perJob: 12, currency: 'CNY' });
  });

  it('warns at another share of the budget only through the tuning a test passes, never an environment variable', () => {
    expect(parseConfig({ BUDGET_WARN_PERCENT: '90' }, { budget: { warnPercent: 60 } }).budget.warnPercent).toBe(60);
  });

  it('keeps the plain comma-separated AUTH_TOKENS list valid, without names or quotas', () => {
    // Act
    const config = parseConfig({ AUTH_TOKENS: `one, ${DIGEST}` });

    // Assert
    expect(config.http).toMatchObject({ authTokens: ['one', DIGEST], tokenNames: [undefined, undefined] });
    expect(config.budget.tokenQuotas).toEqual({});
  });

  it('reads AUTH_TOKENS entries {name, token or its sha256 form, jobsPerDay} into tokens, names and quotas', () => {
    // Act
    const config = parseConfig({
      AUTH_TOKENS: JSON.stringify([
        { name: 'campaign', token: DIGEST, jobsPerDay: 40 },
        { name: 'ops', token: 'plain-ops-token' },
      ]),
    });

    // Assert
    expect(config.http).toMatchObject({ authTokens: [DIGEST, 'plain-ops-token'], tokenNames: ['campaign', 'ops'] });
    expect(config.budget.tokenQuotas).toEqual({ campaign: 40 });
  });

  it.each([
    ['JOB_BUDGET_PER_DAY', { JOB_BUDGET_PER_DAY: '0' }, 'JOB_BUDGET_PER_DAY: must be at least 1'],
    ['JOB_BUDGET_PER_DAY', { JOB_BUDGET_PER_DAY: 'fifty' }, 'JOB_BUDGET_PER_DAY: must be a whole number of jobs'],
    ['BUDGET_TIMEZONE', { BUDGET_TIMEZONE: 'Mars/Olympus' }, 'BUDGET_TIMEZONE: must be an IANA time zone such as Asia/Shanghai'],
    ['JOB_PRICE', { JOB_PRICE: '1,50' }, 'JOB_PRICE: must be a decimal such as 0.5, or one with its ISO 4217 currency such as 0.5 USD'],
    ['a JOB_PRICE currency that is not ISO 4217', { JOB_PRICE: '0.5 yuan' }, 'JOB_PRICE: must be a decimal such as 0.5, or one with its ISO 4217 currency'],
    ['a JOB_PRICE of a currency alone', { JOB_PRICE: 'USD' }, 'JOB_PRICE: must be a decimal'],
    ['a JSON entry without a token', { AUTH_TOKENS: '[{"name":"a"}]' }, 'AUTH_TOKENS: 0.token:'],
    ['a name with a slash', { AUTH_TOKENS: '[{"name":"a/b","token":"t"}]' }, 'AUTH_TOKENS: 0.name: must be 1-64 letters, digits, "-" or "_"'],
    ['a bad quota', { AUTH_TOKENS: '[{"name":"a","token":"t","jobsPerDay":0}]' }, 'AUTH_TOKENS: 0.jobsPerDay:'],
    ['an unknown field', { AUTH_TOKENS: '[{"name":"a","token":"t","perDay":3}]' }, 'AUTH_TOKENS: '],
    ['a name used twice', { AUTH_TOKENS: '[{"name":"a","token":"t"},{"name":"a","token":"u"}]' }, 'AUTH_TOKENS: the name "a" is used twice'],
    ['JSON that does not parse', { AUTH_TOKENS: '[{"name":' }, 'AUTH_TOKENS: is not valid JSON'],
    ['a short sha256 entry', { AUTH_TOKENS: '[{"name":"a","token":"sha256:abc"}]' }, 'AUTH_TOKENS: 0.token: a sha256: entry must be 64 hex digits'],
  ])('refuses %s, naming the variable and the field', (_case, env, message) => {
    // Act, Assert
    expect(() => parseConfig(env)).toThrow(message);
  });
});
