// Structured JSON logs, one object per line. Every workload and engine part logs this way so that the
// evidence stack (and `grep`) can read what happened without parsing prose.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` as well. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  return value !== undefined && value in RANK ? (value as LogLevel) : fallback;
}

export interface LoggerOptions {
  /** Where a finished line goes; stdout by default. */
  write?: (line: string) => void;
  level?: LogLevel;
  now?: () => Date;
}

export function createLogger(component: string, options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const threshold = RANK[options.level ?? parseLogLevel(process.env.LOG_LEVEL)];
  const now = options.now ?? (() => new Date());

  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < threshold) return;
    const record: LogFields = { ts: now().toISOString(), level, component, msg, ...base };
    if (fields) for (const [key, value] of Object.entries(fields)) record[key] = serialise(value);
    write(JSON.stringify(record));
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(component, options, { ...base, ...fields }),
  };
}

/** A logger that drops everything: for tests and library callers that do not want output. */
export const silentLogger: Logger = createLogger('silent', { write: () => undefined });

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return code ? { name: value.name, message: value.message, code } : { name: value.name, message: value.message };
  }
  return value;
}
