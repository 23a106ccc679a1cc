import type * as z from '../../runtime/zod';
import { ICE_ERROR_CODES, IceError } from '../../runtime/errors';

/** An ICE answer checked against its documented schema; anything else is ICE_BAD_RESPONSE (the call may have acted). */
export function parseBody<T extends z.ZodMiniType>(schema: T, body: unknown, action: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    // The call reached ICE and may have acted: never retried.
    throw new IceError(ICE_ERROR_CODES.badResponse, `${action} answered an unexpected body (fields: ${fields})`, 'unknown', {
      requestId: typeof (body as { RequestId?: unknown })?.RequestId === 'string' ? (body as { RequestId: string }).RequestId : undefined,
    });
  }
  return parsed.data;
}
