/**
 * The three things `npm run deploy` does, given its answers: a dry run (offline: the plan and s.yaml rendered), a
 * deploy (the ROS stack created or updated and settled, then `s deploy` with its outputs), a teardown (`s remove`, then
 * the stack deleted, the bucket and its objects kept unless asked). Everything that reaches out is in DeployDependencies,
 * so the tests run all of it against the local ROS and a recording Serverless Devs.
 */
import { resolveCredentials, type Credentials } from '../../shared/adapters/openapi/credentials';
import { YikeError } from '../../shared/runtime/errors';
import { saveAnswers, tokenDigest, type DeployAnswers } from './answers';
import { expectedOutputs, planDeployment, serverlessEnv, type DeploymentPlan } from './plan';
import { budgetLine, planReport } from './report';
import type { Rendered, ServerlessDevs } from './serverless';
import { unresolved } from './serverless';
import type { StackApi } from './stack';
import { STACK_OUTPUTS, templateText, type StackOutputs } from './template';

export interface DeployDependencies {
  /** The clone (s.yaml, .yike/). */
  root: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  serverless: ServerlessDevs;
  stackApi: (region: string, credentials: Credentials) => StackApi;
  /** Deletes every object of the bucket (--remove --delete-objects). */
  emptyBucket: (bucket: string, region: string, credentials: Credentials) => Promise<number>;
}

const COMPLETE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE']);
/** The bucket is kept by a teardown unless asked: its objects are your users' uploads and results. */
const BUCKET_RESOURCE = 'UploadBucket';

function credentialsFrom(env: NodeJS.ProcessEnv): Credentials {
  // ROS and the bucket are called with your access, from the same variables the doctor and yike-jobs read.
  return resolveCredentials({ env });
}

/** s.yaml rendered for this plan, stopped on anything it could not resolve or a plain token. */
async function render(
  plan: DeploymentPlan,
  outputs: StackOutputs,
  deps: DeployDependencies,
): Promise<{ rendered: Rendered; variables: Record<string, string> }> {
  const variables = serverlessEnv(plan, outputs);
  const rendered = await deps.serverless.preview(plan.serverlessTemplate, variables);
  const left = unresolved(rendered);
  if (left.length > 0) {
    const names = [...new Set(left.map((entry) => entry.set))];
    throw new YikeError(
      'UNRESOLVED_VARIABLES',
      `${plan.serverlessTemplate} left ${left.map((entry) => `${entry.expression} (${entry.where})`).join(', ')} unresolved: set ${names.join(', ')}`,
    );
  }
  for (const props of Object.values(rendered)) {
    const tokens = props.environmentVariables?.AUTH_TOKENS ?? '';
    if (tokens.split(',').some((entry) => entry !== '' && !entry.startsWith('sha256:')))
      throw new YikeError('PLAIN_TOKEN', `${props.functionName}'s AUTH_TOKENS would hold a plain token: the functions get the sha256: form only`);
  }
  return { rendered, variables };
}

export async function dryRun(answers: DeployAnswers, token: string | undefined, deps: DeployDependencies): Promise<void> {
  // No token yet: the first deploy makes one; its digest here is a stand-in of the same form.
  const plan = planDeployment(answers, token ? tokenDigest(token) : `sha256:${'0'.repeat(64)}`, deps.env);
  const { rendered } = await render(plan, expectedOutputs(plan), deps);
  deps.out(`npm run deploy -- --dry-run: nothing is created, changed or sent.\n\n${planReport(plan, rendered)}`);
}

export async function deploy(answers: DeployAnswers, token: string, deps: DeployDependencies): Promise<DeployAnswers> {
  const plan = planDeployment(answers, tokenDigest(token), deps.env);
  deps.out(`${budgetLine(plan)}\n`);
  const credentials = credentialsFrom(deps.env);
  const stacks = deps.stackApi(plan.region, credentials);
  // Rendering first: a deploy that could not render s.yaml stops before it creates anything.
  await render(plan, expectedOutputs(plan), deps);
  const parameters = { ...plan.parameters } as unknown as Record<string, string>;
  let stackId = answers.stackId ?? (await stacks.find(plan.stackName));
  let saved = answers;
  if (stackId) {
    const change = await stacks.update(stackId, templateText(), parameters);
    deps.out(change === 'unchanged' ? `Stack ${plan.stackName} (${stackId}) is up to date.\n` : `Updating stack ${plan.stackName} (${stackId})…\n`);
  } else {
    stackId = await stacks.create(plan.stackName, templateText(), parameters);
    deps.out(`Creating stack ${plan.stackName} (${stackId}) in ${plan.region}…\n`);
  }
  if (saved.stackId !== stackId) {
    saved = { ...saved, stackId };
    saveAnswers(deps.root, saved);
  }
  const state = await stacks.settle(stackId, (progress) => deps.out(`  ${progress.status}\n`));
  if (!COMPLETE.has(state.status))
    throw new YikeError(
      'STACK_FAILED',
      `stack ${plan.stackName} ended ${state.status}: ${state.statusReason ?? 'no reason given'} (see the ROS console's events)`,
    );
  const missing = STACK_OUTPUTS.filter((name) => !state.outputs[name]);
  if (missing.length > 0) throw new YikeError('STACK_OUTPUTS_MISSING', `stack ${plan.stackName} has no output ${missing.join(', ')}`);
  deps.out(`Stack ${plan.stackName}: ${state.status}.\n`);
  const { variables } = await render(plan, state.outputs as StackOutputs, deps);
  deps.out(`Deploying the functions: s deploy -t ${plan.serverlessTemplate}\n`);
  await deps.serverless.deploy(plan.serverlessTemplate, variables);
  deps.out('Deployed. Next: npx yike-doctor (docs/first-deploy.md, step 2).\n');
  return saved;
}

export async function remove(answers: DeployAnswers, token: string, options: { deleteObjects: boolean }, deps: DeployDependencies): Promise<DeployAnswers> {
  const plan = planDeployment(answers, tokenDigest(token), deps.env);
  const credentials = credentialsFrom(deps.env);
  const stacks = deps.stackApi(plan.region, credentials);
  const stackId = answers.stackId ?? (await stacks.find(plan.stackName));
  const outputs = stackId ? (await stacks.get(stackId)).outputs : {};
  const { variables } = await render(plan, { ...expectedOutputs(plan), ...outputs }, deps);
  deps.out(`Removing the functions: s remove -t ${plan.serverlessTemplate}\n`);
  await deps.serverless.remove(plan.serverlessTemplate, variables);
  if (!stackId) {
    deps.out(`No stack ${plan.stackName} in ${plan.region}: nothing more to remove.\n`);
    return { ...answers, stackId: undefined };
  }
  if (options.deleteObjects) {
    const deleted = await deps.emptyBucket(answers.bucket, answers.region, credentials);
    deps.out(`Deleted ${deleted} objects from ${answers.bucket}.\n`);
  }
  await stacks.remove(stackId, options.deleteObjects ? [] : [BUCKET_RESOURCE]);
  deps.out(`Deleting stack ${plan.stackName} (${stackId})…\n`);
  try {
    const state = await stacks.settle(stackId, (progress) => deps.out(`  ${progress.status}\n`));
    if (state.status !== 'DELETE_COMPLETE')
      throw new YikeError('STACK_FAILED', `stack ${plan.stackName} ended ${state.status}: ${state.statusReason ?? 'no reason given'}`);
  } catch (error) {
    // Once deleted, ROS no longer knows the stack.
    if ((error as YikeError).code !== 'StackNotFound') throw error;
  }
  deps.out(
    options.deleteObjects
      ? `Removed: the functions, the stack, the bucket ${answers.bucket} and its objects.\n`
      : `Removed: the functions and the stack. Kept: the bucket ${answers.bucket} and its objects (npm run deploy -- --remove --delete-objects deletes them).\n`,
  );
  const rest = { ...answers };
  delete rest.stackId;
  saveAnswers(deps.root, rest);
  return rest;
}
