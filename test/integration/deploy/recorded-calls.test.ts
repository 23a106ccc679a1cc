import { checkCalls } from '../../../local/ram/calls';
import type { Policy } from '../../../local/ram/policy';
import type { RamRequest } from '../../../local/ram/policy';
import { recordRoleCalls, testPlan } from './role-calls-harness';

/**
 * The role's policy against what the functions really do: every call the role made on the stand-ins is allowed, and
 * every grant of the policy was used by some call. A statement taken away, or one nobody needs added, is caught.
 */
describe("the functions' role policy, held against the calls the functions make", () => {
  let requests: RamRequest[];
  let policy: Policy;

  beforeAll(async () => {
    policy = testPlan().policy;
    ({ requests } = await recordRoleCalls());
  }, 180_000);

  it('allows every call the role made and has no grant that no call used', () => {
    // Act
    const { refused, unused } = checkCalls(policy, requests);

    // Assert
    expect(refused).toEqual([]);
    expect(unused).toEqual([]);
  });

  it('made calls of every kind: ICE, OSS, FC and MNS', () => {
    const services = [...new Set(requests.map((request) => request.action.split(':')[0]))].sort();
    expect(services).toEqual(['fc', 'ice', 'mns', 'oss']);
  });

  it('fails when a statement is removed: the calls it allowed are refused', () => {
    for (const [index, removed] of policy.Statement.entries()) {
      // Arrange
      const without = { ...policy, Statement: policy.Statement.filter((_, at) => at !== index) };

      // Act
      const { refused } = checkCalls(without, requests);

      // Assert
      expect({ removed, refused: refused.length > 0 }).toEqual({ removed, refused: true });
    }
  });

  it('fails when a statement no call needs is added', () => {
    // Arrange: the role never writes EventBridge uploads (users do)
    const extra = { Effect: 'Allow' as const, Action: ['oss:PutObject'], Resource: ['acs:oss:*:1234567890123456:yike-role-calls/eventbridge-uploads/*'] };

    // Act
    const { unused } = checkCalls({ ...policy, Statement: [...policy.Statement, extra] }, requests);

    // Assert
    expect(unused).toEqual([`Statement ${policy.Statement.length + 1}: oss:PutObject on acs:oss:*:1234567890123456:yike-role-calls/eventbridge-uploads/*`]);
  });
});
