/**
 * The stacks of the local ROS (server.ts) and the four actions on them: CreateStack, UpdateStack, GetStack, DeleteStack
 * (and ListStacks by name), with the request fields and refusals ROS documents.
 *
 * Sources:
 * - [API]    ROS API 2019-09-10 reference pages CreateStack, UpdateStack, GetStack, DeleteStack, ListStacks
 *            (www.alibabacloud.com/help/en/resource-orchestration-service/latest/<action>), and the official SDK's
 *            models (aliyun/alibabacloud-typescript-sdk, ros-20190910/src/models/CreateStackRequest.ts …): RegionId and
 *            StackName required; StackName up to 255 letters, digits, "-" and "_", starting with a letter or digit;
 *            exactly one of TemplateBody, TemplateURL, TemplateId, TemplateScratchId; TemplateBody 1 to 524,288 bytes;
 *            Parameters.N.ParameterKey / ParameterValue, N up to 200; TimeoutInMinutes 10 to 1440 (default 60);
 *            UpdateStack's UsePreviousParameters; DeleteStack's RetainAllResources and RetainResources.N; GetStack's
 *            Status values (CREATE_IN_PROGRESS, CREATE_COMPLETE, UPDATE_IN_PROGRESS, UPDATE_COMPLETE, DELETE_…) and
 *            Outputs [{OutputKey, OutputValue, Description}].
 * - [ERRORS] The error tables of those pages: 404 StackNotFound "The Stack ({name}) could not be found.", 409
 *            ActionInProgress "Stack {name} already has an action ({action}) in progress." (CancelUpdateStack's page).
 *            ROS's messages follow OpenStack Heat's, whose StackExists, UserParameterMissing, UnknownUserParameter
 *            and StackValidationFailed the other refusals use (local choice where no ROS page shows the code).
 * - [UPDATE] ROS "Update a stack": a stack can be updated in CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_FAILED,
 *            ROLLBACK_COMPLETE … (not while an action is in progress).
 * An update that changes neither the template nor a parameter is refused with NotSupported: unverified (a local
 * assumption; the deploy command treats it as "already up to date").
 */
import { randomUUID } from 'node:crypto';
import { MAX_TEMPLATE_BYTES, parameterProblem, resolveStack, templateProblems, type ResolvedStack } from './template';

export class RosApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Fields = ReadonlyMap<string, string>;

export interface LocalStack {
  stackId: string;
  stackName: string;
  regionId: string;
  status: string;
  templateBody: string;
  parameters: Record<string, string>;
  resolved: ResolvedStack;
  timeoutInMinutes: number;
  /** GetStack answers still due before the action in progress completes. */
  pendingGets: number;
  /** DeleteStack's RetainResources (or every resource with RetainAllResources). */
  retained: string[];
  deleted: boolean;
}

const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const MAX_PARAMETERS = 200;
const UPDATABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_FAILED', 'ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CHECK_COMPLETE', 'CHECK_FAILED']);
const HTTP_BAD_REQUEST = 400;

const missing = (name: string) => new RosApiError(HTTP_BAD_REQUEST, `Missing${name}`, `${name} is mandatory for this action.`);
const invalid = (name: string, why: string) => new RosApiError(HTTP_BAD_REQUEST, `Invalid${name}`, `Specified parameter ${name} is not valid: ${why}`);
const validationFailed = (problems: string[]) => new RosApiError(HTTP_BAD_REQUEST, 'StackValidationFailed', `Stack validation failed: ${problems.join('; ')}`);

function required(fields: Fields, name: string): string {
  const value = fields.get(name);
  if (value === undefined) throw missing(name);
  return value;
}

/** Parameters.N.ParameterKey / ParameterValue as a map; both halves of each pair required [API]. */
function parametersOf(fields: Fields): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (let n = 1; fields.has(`Parameters.${n}.ParameterKey`) || fields.has(`Parameters.${n}.ParameterValue`); n++) {
    if (n > MAX_PARAMETERS) throw invalid('Parameters', `at most ${MAX_PARAMETERS}`);
    const key = required(fields, `Parameters.${n}.ParameterKey`);
    parameters[key] = fields.get(`Parameters.${n}.ParameterValue`) ?? '';
  }
  return parameters;
}

function templateOf(fields: Fields): { body: string; template: Record<string, unknown> } {
  const sources = ['TemplateBody', 'TemplateURL', 'TemplateId', 'TemplateScratchId'].filter((name) => fields.has(name));
  if (sources.length !== 1) throw invalid('TemplateBody', 'specify exactly one of TemplateBody, TemplateURL, TemplateId and TemplateScratchId');
  if (sources[0] !== 'TemplateBody') throw invalid(sources[0]!, 'this stand-in takes TemplateBody only');
  const body = fields.get('TemplateBody')!;
  if (Buffer.byteLength(body) > MAX_TEMPLATE_BYTES) throw invalid('TemplateBody', `1 to ${MAX_TEMPLATE_BYTES} bytes`);
  let template: unknown;
  try {
    template = JSON.parse(body);
  } catch {
    throw new RosApiError(HTTP_BAD_REQUEST, 'InvalidTemplate', 'The template is not valid JSON.');
  }
  const problems = templateProblems(template, Buffer.byteLength(body));
  if (problems.length > 0) throw validationFailed(problems);
  return { body, template: template as Record<string, unknown> };
}

/** Every given parameter declared, every undeclared one refused, every value within its constraints; defaults filled in. */
function checkParameters(template: Record<string, unknown>, given: Record<string, string>): Record<string, string> {
  const declared = (template.Parameters ?? {}) as Record<string, Record<string, unknown>>;
  for (const key of Object.keys(given)) {
    if (!(key in declared)) throw new RosApiError(HTTP_BAD_REQUEST, 'UnknownUserParameter', `The Parameter (${key}) was not defined in template.`);
  }
  const values: Record<string, string> = {};
  for (const [key, spec] of Object.entries(declared)) {
    const value = given[key] ?? (spec.Default === undefined ? undefined : String(spec.Default));
    if (value === undefined) throw new RosApiError(HTTP_BAD_REQUEST, 'UserParameterMissing', `The Parameter (${key}) was not provided.`);
    const problem = parameterProblem(key, spec, value);
    if (problem) throw validationFailed([problem]);
    values[key] = value;
  }
  return values;
}

export function createStacks(options: { accountId: string; progressGets: number }) {
  const stacks: LocalStack[] = [];
  const find = (fields: Fields): LocalStack => {
    const stackId = required(fields, 'StackId');
    const regionId = required(fields, 'RegionId');
    const stack = stacks.find((candidate) => candidate.stackId === stackId && candidate.regionId === regionId && !candidate.deleted);
    if (!stack) throw new RosApiError(404, 'StackNotFound', `The Stack (${stackId}) could not be found.`);
    return stack;
  };
  const notBusy = (stack: LocalStack): void => {
    if (stack.status.endsWith('_IN_PROGRESS'))
      throw new RosApiError(409, 'ActionInProgress', `Stack ${stack.stackName} already has an action (${stack.status.split('_')[0]}) in progress.`);
  };
  const resolve = (stack: Pick<LocalStack, 'stackId' | 'stackName' | 'regionId'>, template: Record<string, unknown>, parameters: Record<string, string>) => {
    const resolved = resolveStack(template, parameters, {
      region: stack.regionId,
      accountId: options.accountId,
      stackName: stack.stackName,
      stackId: stack.stackId,
    });
    if (resolved.problems.length > 0) throw validationFailed(resolved.problems);
    return resolved;
  };
  const timeoutOf = (fields: Fields, fallback: number): number => {
    const value = fields.get('TimeoutInMinutes');
    if (value === undefined) return fallback;
    const minutes = Number(value);
    if (!Number.isInteger(minutes) || minutes < 10 || minutes > 1440) throw invalid('TimeoutInMinutes', '10 to 1440');
    return minutes;
  };

  return {
    all: (): readonly LocalStack[] => stacks,

    create(fields: Fields): Record<string, unknown> {
      const regionId = required(fields, 'RegionId');
      const stackName = required(fields, 'StackName');
      if (!STACK_NAME.test(stackName)) throw invalid('StackName', 'up to 255 letters, digits, "-" or "_", starting with a letter or digit');
      const { body, template } = templateOf(fields);
      const timeoutInMinutes = timeoutOf(fields, 60);
      if (stacks.some((stack) => stack.stackName === stackName && stack.regionId === regionId && !stack.deleted))
        throw new RosApiError(409, 'StackExists', `The Stack (${stackName}) already exists.`);
      const parameters = checkParameters(template, parametersOf(fields));
      const identity = { stackId: randomUUID(), stackName, regionId };
      const resolved = resolve(identity, template, parameters);
      stacks.push({
        ...identity,
        status: 'CREATE_IN_PROGRESS',
        templateBody: body,
        parameters,
        resolved,
        timeoutInMinutes,
        pendingGets: options.progressGets,
        retained: [],
        deleted: false,
      });
      return { StackId: identity.stackId };
    },

    update(fields: Fields): Record<string, unknown> {
      const stack = find(fields);
      notBusy(stack);
      if (!UPDATABLE.has(stack.status))
        throw new RosApiError(HTTP_BAD_REQUEST, 'StackValidationFailed', `Stack ${stack.stackName} cannot be updated in ${stack.status}.`);
      const { body, template } = templateOf(fields);
      const given = parametersOf(fields);
      const previous = fields.get('UsePreviousParameters') === 'true' ? stack.parameters : {};
      const declared = Object.keys((template.Parameters ?? {}) as object);
      const parameters = checkParameters(template, { ...Object.fromEntries(Object.entries(previous).filter(([key]) => declared.includes(key))), ...given });
      if (body === stack.templateBody && JSON.stringify(parameters) === JSON.stringify(stack.parameters))
        throw new RosApiError(HTTP_BAD_REQUEST, 'NotSupported', `Update the completely same stack (${stack.stackName}) is not supported.`);
      stack.resolved = resolve(stack, template, parameters);
      Object.assign(stack, {
        templateBody: body,
        parameters,
        status: 'UPDATE_IN_PROGRESS',
        pendingGets: options.progressGets,
        timeoutInMinutes: timeoutOf(fields, stack.timeoutInMinutes),
      });
      return { StackId: stack.stackId };
    },

    get(fields: Fields): Record<string, unknown> {
      const stack = find(fields);
      if (stack.status.endsWith('_IN_PROGRESS')) {
        if (stack.pendingGets > 0) stack.pendingGets--;
        else if (stack.status === 'DELETE_IN_PROGRESS') stack.deleted = true;
        else stack.status = stack.status.replace('_IN_PROGRESS', '_COMPLETE');
      }
      const complete = stack.status.endsWith('_COMPLETE');
      return {
        StackId: stack.stackId,
        StackName: stack.stackName,
        RegionId: stack.regionId,
        Status: stack.deleted ? 'DELETE_COMPLETE' : stack.status,
        StatusReason: complete ? `Stack ${stack.status.split('_')[0]} completed successfully` : `Stack ${stack.status.split('_')[0]} started`,
        TimeoutInMinutes: stack.timeoutInMinutes,
        Parameters: [
          ...Object.entries(stack.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
          { ParameterKey: 'ALIYUN::Region', ParameterValue: stack.regionId },
          { ParameterKey: 'ALIYUN::AccountId', ParameterValue: options.accountId },
        ],
        ...(complete ? { Outputs: stack.resolved.outputs } : {}),
      };
    },

    delete(fields: Fields): Record<string, unknown> {
      const stack = find(fields);
      notBusy(stack);
      const retained: string[] = [];
      for (let n = 1; fields.has(`RetainResources.${n}`); n++) retained.push(fields.get(`RetainResources.${n}`)!);
      const unknown = retained.filter((id) => !(id in stack.resolved.resources));
      if (unknown.length > 0) throw invalid('RetainResources', `the stack has no resource ${unknown.join(', ')}`);
      stack.retained = fields.get('RetainAllResources') === 'true' ? Object.keys(stack.resolved.resources) : retained;
      Object.assign(stack, { status: 'DELETE_IN_PROGRESS', pendingGets: options.progressGets });
      return {};
    },

    list(fields: Fields): Record<string, unknown> {
      const regionId = required(fields, 'RegionId');
      const names: string[] = [];
      for (let n = 1; fields.has(`StackName.${n}`); n++) names.push(fields.get(`StackName.${n}`)!);
      const found = stacks.filter((stack) => stack.regionId === regionId && !stack.deleted && (names.length === 0 || names.includes(stack.stackName)));
      return {
        Stacks: found.map((stack) => ({ StackId: stack.stackId, StackName: stack.stackName, RegionId: stack.regionId, Status: stack.status })),
        TotalCount: found.length,
        PageNumber: 1,
        PageSize: 10,
      };
    },
  };
}
