/**
 * Structured JSON logs, one object per line, carrying the FC request id.
 * Secrets never reach a log line: sensitive keys are masked and signed-URL signatures stripped.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SENSITIVE_KEY = /secret|token|password|authorization|signature|credential|cookie/i;
/** Query parameters of OSS/ACS signed URLs that grant access. */
const SIGNED_URL_PARAMS = /([?&](?:Signature|security-token|x-oss-signature|x-oss-security-token|x-oss-credential|OSSAccessKeyId)=)[^&\s"]*/gi;
const REDACTED = '[REDACTED]';

export type LogSink = (line: string) => void;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function redactUrl(url: string): string {
  return url.replace(SIGNED_URL_PARAMS, `$1${REDACTED}`);
}

function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) return { name: value.name, message: redactUrl(value.message), code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SENSITIVE_KEY.test(key) && item !== undefined && item !== null && item !== '' ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

export function createLogger(options: { level?: LogLevel; sink?: LogSink; fields?: Record<string, unknown> } = {}): Logger {
  const minimum = LEVEL_ORDER[options.level ?? 'info'];
  const sink = options.sink ?? stdoutSink;
  const base = options.fields ?? {};
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[level] < minimum) return;
    const time = new Date().toISOString();
    // Reserved keys come first and cannot be overwritten by fields.
    const entry = redact(Object.assign({ time, level, message }, base, fields, { time, level, message }));
    sink(JSON.stringify(entry));
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => createLogger({ level: options.level, sink, fields: { ...base, ...fields } }),
  };
}
