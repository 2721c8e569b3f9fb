/**
 * Configuration from the environment, the same way in every process: each process declares its
 * variables once (type, default, the closed default under NODE_ENV=production, what it means),
 * reads them with one `readEnv` call at start, and gets a typed object or one error naming every
 * variable that is empty or invalid. The README's configuration table is checked against these
 * declarations (test/readme-configuration.test.ts).
 */
import { z } from 'zod';

/** One environment variable: how its text becomes a value, and its default. */
export interface EnvVariable<T> {
  /** Parses the variable's text (never empty: an empty value is refused before). */
  readonly schema: z.ZodType<T, string>;
  /** The value when the variable is unset; a function of whether NODE_ENV is production for a security default. */
  readonly fallback: T | ((production: boolean) => T);
  /** The default as the README says it (checked). */
  readonly documentedDefault: string;
}

const FLAG_TRUE = new Set(['true', '1', 'on']);
const FLAG_FALSE = new Set(['false', '0', 'off']);

/** The value schemas every process uses, so the same kind of variable accepts the same text everywhere. */
export const envSchema = {
  /** An integer from `min` (0 unless said) to `max`. */
  integer: (min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z
      .string()
      .regex(/^-?\d+$/, { error: `must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}` })
      .transform(Number)
      .pipe(
        z
          .number()
          .int()
          .min(min, { error: `must be at least ${min}` })
          .max(max, { error: `must be at most ${max}` }),
      ),
  /** A TCP port (0: any free port). */
  port: () => envSchema.integer(0, 65_535),
  /** true/false (also 1/0 and on/off), the same words for every flag. */
  flag: () =>
    z.string().transform((text, context) => {
      const word = text.toLowerCase();
      if (FLAG_TRUE.has(word)) return true;
      if (FLAG_FALSE.has(word)) return false;
      context.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    }),
  /** One of the given words. */
  oneOf: <const Word extends string>(words: readonly [Word, ...Word[]]) => z.enum(words, { error: `must be one of ${words.join(', ')}` }),
  /** An absolute http(s) URL. */
  url: () => z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** A PostgreSQL connection URL. */
  postgresUrl: () => z.string().regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// or postgresql:// URL' }),
  /** Any text (a path, a host name). */
  text: () => z.string(),
};

/** A variable with a default (`fallback`), or `undefined` when unset (`optional`). */
export function envVariable<T>(schema: z.ZodType<T, string>, fallback: T | ((production: boolean) => T), documentedDefault: string): EnvVariable<T> {
  return { schema, fallback, documentedDefault };
}

export function optionalEnvVariable<T>(schema: z.ZodType<T, string>, documentedDefault = 'unset'): EnvVariable<T | undefined> {
  return { schema: schema as z.ZodType<T | undefined, string>, fallback: undefined, documentedDefault };
}

export type EnvSpec = Record<string, EnvVariable<unknown>>;
export type EnvValues<Spec extends EnvSpec> = { [Name in keyof Spec]: Spec[Name] extends EnvVariable<infer T> ? T : never };

/** Startup configuration that cannot be used; the message names every variable concerned. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}.`);
  }
}

/** The one place NODE_ENV is read: `production` closes every security default. */
export function isProduction(env: NodeJS.ProcessEnv): boolean {
  return env.NODE_ENV === 'production';
}

/**
 * Reads the declared variables: unset → the default (the production one under NODE_ENV=production),
 * empty or invalid → a ConfigurationError naming each such variable, its rule and its default.
 */
export function readEnv<Spec extends EnvSpec>(spec: Spec, env: NodeJS.ProcessEnv = process.env): EnvValues<Spec> {
  const production = isProduction(env);
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name];
    if (raw === undefined) {
      values[name] = typeof variable.fallback === 'function' ? (variable.fallback as (production: boolean) => unknown)(production) : variable.fallback;
      continue;
    }
    if (raw.trim() === '') {
      problems.push(`${name} is set but empty (unset it for the default: ${variable.documentedDefault})`);
      continue;
    }
    const parsed = variable.schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    // The value itself is not repeated: it may be a secret (a URL with a password).
    else problems.push(`${name} ${parsed.error.issues[0]?.message ?? 'is invalid'} (default: ${variable.documentedDefault})`);
  }
  if (problems.length) throw new ConfigurationError(problems);
  return values as EnvValues<Spec>;
}

/** Variables every process reads (the kit's logging, tracing and production switch). */
export const COMMON_ENV = {
  NODE_ENV: optionalEnvVariable(envSchema.text()),
  LOG_LEVEL: envVariable(envSchema.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info', '`info`'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalEnvVariable(envSchema.url()),
} satisfies EnvSpec;
