import { parseConfig } from '../../../shared/runtime/config';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('the budget and token quotas from environment variables', () => {
  it('sets no limit and counts in Asia/Shanghai days when nothing is set', () => {
    // Act
    const config = parseConfig({});

    // Assert
    expect(config.budget).toEqual({ perDay: undefined, timeZone: 'Asia/Shanghai', warnPercent: 80, tokenQuotas: {}, price: undefined });
  });

  it('reads the budget, its time zone, the warning level and the price', () => {
    // Act
    const config = parseConfig({
      JOB_BUDGET_PER_DAY: '500',
      BUDGET_TIMEZONE: 'Europe/Berlin',
      BUDGET_WARN_PERCENT: '90',
      JOB_PRICE: '0.35',
      JOB_PRICE_CURRENCY: 'USD',
    });

    // Assert
    expect(config.budget).toEqual({ perDay: 500, timeZone: 'Europe/Berlin', warnPercent: 90, tokenQuotas: {}, price: { perJob: 0.35, currency: 'USD' } });
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
    ['BUDGET_WARN_PERCENT', { BUDGET_WARN_PERCENT: '120' }, 'BUDGET_WARN_PERCENT:'],
    ['JOB_PRICE', { JOB_PRICE: '1,50' }, 'JOB_PRICE: must be a decimal such as 0.5'],
    ['JOB_PRICE_CURRENCY', { JOB_PRICE_CURRENCY: 'yuan' }, 'JOB_PRICE_CURRENCY: must be a three-letter currency code such as CNY'],
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
