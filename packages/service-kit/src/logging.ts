import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { COMMON_ENV, readEnv } from './config.js';

/**
 * One structured JSON logger per process (pino). Every line carries the service and, inside a
 * traced request, the trace id, so gateway and subgraph lines of one request can be joined.
 * What is logged is decided at each call site: ids, codes, operation names and reasons only —
 * never variables, documents, tokens or response data (personal data stays out of the logs).
 */
export type { Logger } from 'pino';

/** Fields that must never be written even if a call site passes them by mistake. */
const REDACTED = [
  'variables',
  'query',
  'document',
  'token',
  'authorization',
  'headers',
  'data',
  'body',
  '*.variables',
  '*.query',
  '*.token',
  '*.authorization',
  '*.headers',
  '*.data',
  '*.body',
];

/** Forwards to a destination that tests can replace after loggers were created. */
const forwarding: DestinationStream & { target: DestinationStream } = {
  // Synchronous, so the lines before a process exit (shutdown, a fatal error) are not lost.
  target: pino.destination({ dest: 1, sync: true }),
  write(line: string) {
    this.target.write(line);
  },
};

const root: Logger = pino(
  {
    level: readEnv({ LOG_LEVEL: COMMON_ENV.LOG_LEVEL }).LOG_LEVEL,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED, censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      return span && trace.isSpanContextValid(span) ? { traceId: span.traceId } : {};
    },
  },
  forwarding,
);

/** One logger per service, kept so a test can change the level of all (pino children keep the level they were created with). */
const children = new Map<string, Logger>();

/** The logger of one service (`gateway`, `plaatsing`, ...). */
export function serviceLogger(service: string): Logger {
  let child = children.get(service);
  if (!child) children.set(service, (child = root.child({ service })));
  return child;
}

function setLevel(level: string): void {
  root.level = level;
  for (const child of children.values()) child.level = level;
}

/**
 * Sends every log line to `destination` from now on, at `level` (tests capture the output);
 * returns a function restoring the previous destination and level.
 */
export function redirectLogs(destination: DestinationStream, level: pino.Level = 'info'): () => void {
  const previous = { target: forwarding.target, level: root.level };
  forwarding.target = destination;
  setLevel(level);
  return () => {
    forwarding.target = previous.target;
    setLevel(previous.level);
  };
}

/**
 * What of an unexpected error goes into a log line: its class, code, message and stack frames,
 * so a request id leads a maintainer to what went wrong. Messages of library and database
 * errors can quote data values, so the message is redacted (see redactMessage). Errors that
 * are not Error instances (a subgraph's JSON error, an object thrown across a thread) give
 * what they have of the same.
 */
export function errorDetails(error: unknown): { error: string; code?: string; message?: string; stack?: string } {
  if (typeof error !== 'object' || error === null) return { error: typeof error, ...(typeof error === 'string' ? { message: redactMessage(error) } : {}) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  const stack = error instanceof Error ? error.stack : undefined;
  const frames = stack
    ?.split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, 12)
    .join('\n');
  return {
    error: error instanceof Error ? error.name : 'object',
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' && message ? { message: redactMessage(message) } : {}),
    ...(frames ? { stack: frames } : {}),
  };
}

/**
 * An error message as it may be logged: quoted text is kept only when it is a lower-case SQL
 * identifier (a constraint, column or table: what a maintainer needs), anything else quoted
 * becomes …, as do runs of four or more digits (a BSN, a date) and e-mail addresses; at most
 * 300 characters. What is left names the failure, not the data.
 */
export function redactMessage(message: string): string {
  const quoted = /(["'`])([^"'`\n]*)\1/g;
  return message
    .replace(quoted, (whole, quote: string, inner: string) => (/^[a-z_][a-z0-9_.]*$/.test(inner) ? whole : `${quote}…${quote}`))
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, '…')
    .replace(/\d{4,}/g, '…')
    .slice(0, 300);
}
