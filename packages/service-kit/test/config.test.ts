import { ConfigurationError, envSchema, envVariable, loadSubgraphConfig, optionalEnvVariable, readEnv } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';

const problemsOf = (read: () => unknown): readonly string[] => {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
};

describe('readEnv', () => {
  const spec = {
    PORT: envVariable(envSchema.port(), 4001, '4001'),
    FLAG: envVariable(envSchema.flag(), (production) => !production, '`true`; `false` with `NODE_ENV=production`'),
    LIMIT: envVariable(envSchema.integer(1), 10, '`10`'),
    MODE: envVariable(envSchema.oneOf(['filter', 'reject']), 'filter', '`filter`'),
    URL: optionalEnvVariable(envSchema.url()),
  };

  it('gives the defaults when nothing is set, and the closed ones under NODE_ENV=production', () => {
    expect(readEnv(spec, {})).toEqual({ PORT: 4001, FLAG: true, LIMIT: 10, MODE: 'filter', URL: undefined });
    expect(readEnv(spec, { NODE_ENV: 'production' }).FLAG).toBe(false);
    expect(readEnv(spec, { NODE_ENV: 'production', FLAG: 'on' }).FLAG).toBe(true);
  });

  it('reads every flag with the same words', () => {
    for (const word of ['true', '1', 'on', 'TRUE']) expect(readEnv(spec, { FLAG: word }).FLAG).toBe(true);
    for (const word of ['false', '0', 'off']) expect(readEnv(spec, { FLAG: word }).FLAG).toBe(false);
    expect(problemsOf(() => readEnv(spec, { FLAG: 'yes' }))).toEqual(['FLAG must be true or false (default: `true`; `false` with `NODE_ENV=production`)']);
  });

  it('refuses an empty value, naming the variable and its default, instead of guessing', () => {
    expect(problemsOf(() => readEnv(spec, { PORT: '' }))).toEqual(['PORT is set but empty (unset it for the default: 4001)']);
    expect(problemsOf(() => readEnv(spec, { URL: ' ' }))).toEqual(['URL is set but empty (unset it for the default: unset)']);
  });

  it('names every invalid variable at once, without repeating a value', () => {
    const problems = problemsOf(() => readEnv(spec, { PORT: '70000', LIMIT: '0', MODE: 'open', URL: 'ftp://user:secret@host' }));
    expect(problems).toHaveLength(4);
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual(['PORT', 'LIMIT', 'MODE', 'URL']);
    expect(problems.join(' ')).not.toContain('secret');
    expect(problemsOf(() => readEnv(spec, { LIMIT: '1.5' }))[0]).toMatch(/^LIMIT must be an integer/);
  });
});

describe('a subgraph process', () => {
  it('refuses HOST and PORT set empty rather than binding every interface or a random port', () => {
    expect(problemsOf(() => loadSubgraphConfig('plaatsing', 4002, { HOST: '', PORT: '' }))).toEqual([
      'PORT is set but empty (unset it for the default: 4002)',
      'HOST is set but empty (unset it for the default: `127.0.0.1`)',
    ]);
    expect(loadSubgraphConfig('plaatsing', 4002, {})).toMatchObject({ port: 4002, host: '127.0.0.1', seed: undefined, seedPatients: 2000 });
  });

  it("requires the gateway's public key under NODE_ENV=production", () => {
    expect(problemsOf(() => loadSubgraphConfig('plaatsing', 4002, { NODE_ENV: 'production' }))[0]).toMatch(/GATEWAY_JWKS_URL or GATEWAY_PUBLIC_KEY_FILE/);
  });
});
