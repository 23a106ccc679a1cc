/**
 * The ROS stack of a deployment, through the official ROS SDK (`@alicloud/ros20190910` 3.5.2, the last release built
 * on the same `@alicloud/openapi-client` 0.4 the functions use): ListStacks (by name), CreateStack, UpdateStack,
 * GetStack until the action ends, DeleteStack. Chosen over Serverless Devs' `ros` component because the component is
 * downloaded from its registry when `s` runs (nothing here could test it), while the SDK is a pinned package whose
 * requests the local ROS (local/ros/server.ts) verifies: signature, fields, template and parameters.
 */
import { Config as OpenApiConfig } from '@alicloud/openapi-client';
import Ros, {
  CreateStackRequest,
  CreateStackRequestParameters,
  DeleteStackRequest,
  GetStackRequest,
  ListStacksRequest,
  UpdateStackRequest,
  UpdateStackRequestParameters,
} from '@alicloud/ros20190910';
import type { Credentials } from '../../shared/adapters/openapi/credentials';
import { YikeError } from '../../shared/runtime/errors';

/** Where ROS answers: its central endpoint (the SDK's own rule), or a local one for tests. */
export interface RosEndpoint {
  endpoint: string;
  protocol: 'https' | 'http';
}

const ROS_ENDPOINT: RosEndpoint = { endpoint: 'ros.aliyuncs.com', protocol: 'https' };

export interface StackState {
  stackId: string;
  status: string;
  statusReason?: string;
  outputs: Record<string, string>;
}

/** One poll every 5 s; a stack of this size settles in a minute or two, and ROS itself times out at 60 minutes. */
const POLL_MS = 5_000;
const MAX_POLLS = 60 * 12;
const NO_CHANGE = 'NotSupported';

function rosError(action: string, raw: unknown): YikeError {
  const error = raw as { code?: string; message?: string; data?: { Message?: string } };
  const code = error.code ?? 'ROS_FAILED';
  return new YikeError(code, `ROS ${action} failed: ${error.data?.Message ?? error.message ?? code}`, { cause: raw });
}

export function createStackApi(options: { region: string; credentials: Credentials; endpoint?: RosEndpoint; sleep?: (ms: number) => Promise<void> }) {
  const where = options.endpoint ?? ROS_ENDPOINT;
  const client = new Ros(
    new OpenApiConfig({
      accessKeyId: options.credentials.accessKeyId,
      accessKeySecret: options.credentials.accessKeySecret,
      securityToken: options.credentials.securityToken,
      endpoint: where.endpoint,
      protocol: where.protocol,
      regionId: options.region,
      readTimeout: 30_000,
      connectTimeout: 10_000,
    }),
  );
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const call = async <T>(action: string, run: () => Promise<{ body?: T }>): Promise<T> => {
    try {
      return (await run()).body as T;
    } catch (error) {
      throw rosError(action, error);
    }
  };
  const parameterList = <P>(parameters: Record<string, string>, make: (entry: { parameterKey: string; parameterValue: string }) => P): P[] =>
    Object.entries(parameters).map(([parameterKey, parameterValue]) => make({ parameterKey, parameterValue }));

  const get = async (stackId: string): Promise<StackState> => {
    const body = await call('GetStack', () => client.getStack(new GetStackRequest({ stackId, regionId: options.region })));
    const outputs = Object.fromEntries(
      ((body?.outputs ?? []) as { OutputKey?: string; OutputValue?: string }[]).map((output) => [String(output.OutputKey), String(output.OutputValue ?? '')]),
    );
    return { stackId, status: String(body?.status ?? ''), statusReason: body?.statusReason, outputs };
  };

  return {
    /** The id of the stack of this name in the region, if there is one. */
    async find(stackName: string): Promise<string | undefined> {
      const body = await call('ListStacks', () => client.listStacks(new ListStacksRequest({ regionId: options.region, stackName: [stackName] })));
      return body?.stacks?.find((stack) => stack.stackName === stackName)?.stackId;
    },

    async create(stackName: string, templateBody: string, parameters: Record<string, string>): Promise<string> {
      const body = await call('CreateStack', () =>
        client.createStack(
          new CreateStackRequest({
            regionId: options.region,
            stackName,
            templateBody,
            timeoutInMinutes: 60,
            parameters: parameterList(parameters, (entry) => new CreateStackRequestParameters(entry)),
          }),
        ),
      );
      return String(body?.stackId);
    },

    /** `unchanged` when ROS says the template and parameters are what the stack already has. */
    async update(stackId: string, templateBody: string, parameters: Record<string, string>): Promise<'updating' | 'unchanged'> {
      try {
        await call('UpdateStack', () =>
          client.updateStack(
            new UpdateStackRequest({
              regionId: options.region,
              stackId,
              templateBody,
              parameters: parameterList(parameters, (entry) => new UpdateStackRequestParameters(entry)),
            }),
          ),
        );
        return 'updating';
      } catch (error) {
        if ((error as YikeError).code === NO_CHANGE) return 'unchanged';
        throw error;
      }
    },

    get,

    /** GetStack until the action in progress ends; its last state, outputs included. */
    async settle(stackId: string, onProgress?: (state: StackState) => void): Promise<StackState> {
      for (let poll = 0; poll < MAX_POLLS; poll++) {
        const state = await get(stackId);
        if (!state.status.endsWith('_IN_PROGRESS')) return state;
        onProgress?.(state);
        await sleep(POLL_MS);
      }
      throw new YikeError('ROS_TIMEOUT', `stack ${stackId} was still in progress after ${(MAX_POLLS * POLL_MS) / 60_000} minutes`);
    },

    async remove(stackId: string, retainResources: string[]): Promise<void> {
      await call('DeleteStack', () => client.deleteStack(new DeleteStackRequest({ regionId: options.region, stackId, retainResources })));
    },
  };
}

export type StackApi = ReturnType<typeof createStackApi>;
