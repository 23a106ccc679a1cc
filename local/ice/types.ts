/**
 * The records and controls of the local ICE endpoint that its modules share: what server.ts keeps (accepted jobs,
 * received calls, registered media, the keys it accepts) and the injected-fault controls. Types only, importing
 * nothing local, so every module of local/ice can use them without importing the server.
 *
 * Sources:
 * - [COMMON]  Alibaba Cloud OpenAPI common error codes (help.aliyun.com document 53438): Throttling.User (400).
 */

/** An AccessKey the endpoint accepts (FC's context.credentials shape when it is an STS triple). */
export interface LocalCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  expiresAt?: Date;
}

export interface AcceptedJob {
  jobId: string;
  requestId: string;
  appId: string;
  /** AppParams parsed (a submit without it is refused; only a seeded job may have {}). */
  appParams: Record<string, unknown>;
  /** AppParams exactly as received ('' only for a seeded job without one). */
  appParamsRaw: string;
  productionId?: string;
  folderId?: string;
  accessKeyId: string;
  /** Where AppId came from (the other fields may come from either place). */
  fieldsFrom: 'body' | 'query';
  receivedAt: string;
}

export interface ReceivedCall {
  action: string | undefined;
  version: string | undefined;
  method: string;
  /** Query and form fields merged; values of secret-looking names are redacted. */
  fields: Record<string, string>;
  /** Where each of `fields` was read from: the query string or the form body. */
  placement: Record<string, 'body' | 'query'>;
  /** 0 when the connection was dropped without an answer (dropNext). */
  status: number;
  code?: string;
  requestId: string;
  /** Which connection it came on (1, 2, …, in the order this server first saw them): a reused connection repeats its number. */
  connection: number;
  /** Whether that connection was TLS. */
  tls: boolean;
}

/** A media asset registered with RegisterMediaInfo. */
export interface RegisteredMedia {
  mediaId: string;
  inputUrl: string;
  mediaType: string;
  registeredAt: string;
}

/** One injected failure: what the server does instead of (or besides) answering normally. */
export type IceFault =
  | { kind: 'throttle'; code: string }
  | { kind: 'fail'; status: number; code: string; nonJsonBody: boolean }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' };

/**
 * Injected failures for the next RPC requests (inspection routes do not count). Each call queues `count` one-request
 * faults behind those already queued, so throttleNext(1) then failNext(1, ...) throttles one request and fails the next.
 */
export interface IceFaultControls {
  /** Answer 400 with `code` (default Throttling.User, 400 per [COMMON]) and create nothing. */
  throttleNext(count: number, code?: string): void;
  /** Answer `status` with `code` (or with an HTML body when nonJsonBody) and create nothing. */
  failNext(count: number, status: number, code: string, opts?: { nonJsonBody?: boolean }): void;
  /** Process the request normally (a submit DOES create its job) and answer `ms` later. */
  delayNext(count: number, ms: number): void;
  /** Read the request, then destroy the connection without answering or processing (no job). */
  dropNext(count: number): void;
  /** Consulted for every RPC request no queued fault claims (seeded random faults); undefined lets it through. */
  pickWith(picker: ((action: string) => IceFault | undefined) | undefined): void;
}
