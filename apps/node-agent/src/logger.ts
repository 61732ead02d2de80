/** Keys whose values are secrets (credentials, presigned URLs): never written to a log. */
const SECRET_KEYS = /^(seed|nkeySeed|heartbeatKey|token|nodeToken|attemptToken|joinToken|authorization|password|getUrl|putUrl|url)$/i;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Replaces secret values (by key, at any depth) with '[redacted]'. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, SECRET_KEYS.test(key) ? '[redacted]' : redact(item, depth + 1)]),
  );
}

/** JSON-lines logger (one object per line) with secret redaction. */
export function createLogger(write: (line: string) => void, level: LogLevel = 'info', now: () => Date = () => new Date()): Logger {
  const log = (at: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const error = fields?.error instanceof Error ? { error: fields.error.message } : {};
    write(`${JSON.stringify({ time: now().toISOString(), level: at, msg, ...(redact(fields ?? {}) as object), ...error })}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
