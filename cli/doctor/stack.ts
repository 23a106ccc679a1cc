import { resolveCredentials } from '../../shared/adapters/openapi/credentials';
import type { StackReading } from '../../shared/domain/doctor/deployment-checks';
import { loadAnswers } from '../deploy/answers';
import { STACK_NAME } from '../deploy/deployment';
import { createStackApi, type StackApi } from '../deploy/stack';
import { STACK_OUTPUTS } from '../deploy/template';

/**
 * The stack `npm run deploy` made for this clone (.yike/deploy.json names its region and id), read with GetStack, for
 * the doctor's `deploy.stack` line; or why it could not be read. Never throws: a failure is what the line says.
 */
export async function readStack(dir: string, env: NodeJS.ProcessEnv, api?: (region: string) => StackApi): Promise<StackReading> {
  let answers: ReturnType<typeof loadAnswers>;
  try {
    answers = loadAnswers(dir);
  } catch (error) {
    return { skipped: `not read: ${(error as Error).message}` };
  }
  if (!answers) return { skipped: 'not read: this clone has no .yike/deploy.json (npm run deploy -- --guided makes the stack and records it)' };
  try {
    const stacks = api ? api(answers.region) : createStackApi({ region: answers.region, credentials: resolveCredentials({ env }) });
    const stackId = answers.stackId ?? (await stacks.find(STACK_NAME));
    if (!stackId) return { missing: `no stack ${STACK_NAME} in ${answers.region}` };
    const state = await stacks.get(stackId);
    return { name: STACK_NAME, status: state.status, outputs: state.outputs, needed: STACK_OUTPUTS };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'StackNotFound') return { missing: `the stack ${answers.stackId} recorded in .yike/deploy.json no longer exists in ${answers.region}` };
    return { missing: `GetStack failed (${code ?? (error as Error).message}): give your access ros:GetStack and ros:ListStacks` };
  }
}
