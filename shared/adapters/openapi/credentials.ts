import * as z from '../../runtime/zod';
import { CredentialsError } from '../../runtime/errors';

/** The function role's STS credentials (or, outside FC, the standard ALIBABA_CLOUD_* variables). */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** When the STS token stops working, if known. Signed URLs never outlive it. */
  expiresAt?: Date;
}

export type CredentialsProvider = () => Credentials;

const contextCredentialsSchema = z.partial(
  z.object({
    accessKeyId: z.optional(z.string()),
    accessKeySecret: z.optional(z.string()),
    securityToken: z.optional(z.string()),
    expiration: z.optional(z.union([z.string(), z.number()])),
  }),
);

function parseExpiration(value: string | number | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(typeof value === 'number' && value < 1e12 ? value * 1000 : value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Reads `context.credentials` as FC 3.0 passes it. An empty object means the function has no role:
 * fall back to the ALIBABA_CLOUD_* variables (FC sets them from the role too), else say exactly what is missing.
 */
export function resolveCredentials(source: { context?: { credentials?: unknown }; env?: NodeJS.ProcessEnv }): Credentials {
  const env = source.env ?? process.env;
  const fromContext = contextCredentialsSchema.safeParse(source.context?.credentials ?? {});
  const context = fromContext.success ? fromContext.data : {};
  if (context.accessKeyId && context.accessKeySecret) {
    return {
      accessKeyId: context.accessKeyId,
      accessKeySecret: context.accessKeySecret,
      securityToken: context.securityToken || undefined,
      expiresAt: parseExpiration(context.expiration),
    };
  }
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (accessKeyId && accessKeySecret) {
    return { accessKeyId, accessKeySecret, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim() || undefined };
  }
  const missing = [!accessKeyId && 'ALIBABA_CLOUD_ACCESS_KEY_ID', !accessKeySecret && 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'].filter(Boolean);
  const inFc = source.context !== undefined;
  throw new CredentialsError(
    inFc
      ? `No credentials: context.credentials is empty (give the function a role in s.yaml) and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set`
      : `No credentials: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set (add ALIBABA_CLOUD_SECURITY_TOKEN for STS keys)`,
  );
}
