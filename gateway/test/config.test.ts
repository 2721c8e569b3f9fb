import { ConfigurationError } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config/index.js';

const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
};

describe('the gateway configuration', () => {
  it('refuses HOST and PORT set empty (no longer every interface, no longer a random port)', () => {
    expect(problemsOf({ HOST: '', PORT: '' })).toEqual([
      'PORT is set but empty (unset it for the default: 4000)',
      'HOST is set but empty (unset it for the default: `127.0.0.1`)',
    ]);
    expect(loadGatewayConfig({ PORT: '0' }).port).toBe(0);
  });

  it('reports every empty or invalid variable at once, by name', () => {
    const problems = problemsOf({ MAX_DEPTH: '0', INTROSPECTION: 'maybe', AUTHORIZATION_MODE: 'open', PLAATSING_URL: '', AUDIT_CHECKPOINT_INTERVAL_MS: '10' });
    expect(problems.map((problem) => problem.split(' ')[0]).sort()).toEqual([
      'AUDIT_CHECKPOINT_INTERVAL_MS',
      'AUTHORIZATION_MODE',
      'INTROSPECTION',
      'MAX_DEPTH',
      'PLAATSING_URL',
    ]);
  });

  it('closes every security default under NODE_ENV=production, and each can still be set on its own', () => {
    const production = loadGatewayConfig({ NODE_ENV: 'production' });
    expect(production.production).toBe(true);
    expect(production.exposure).toEqual({ introspection: false, fieldSuggestions: false, trustedDocuments: true, automaticPersistedQueries: false });
    expect(production.explorer.enabled).toBe(false);
    expect([production.webhooks.allowHttp, production.webhooks.allowPrivateAddresses]).toEqual([false, false]);
    const development = loadGatewayConfig({});
    expect(development.exposure).toEqual({ introspection: true, fieldSuggestions: true, trustedDocuments: false, automaticPersistedQueries: false });
    expect([development.explorer.enabled, development.webhooks.allowHttp, development.webhooks.allowPrivateAddresses]).toEqual([true, true, true]);
    expect(loadGatewayConfig({ NODE_ENV: 'production', INTROSPECTION: '1', EXPLORER_ENABLED: '1' })).toMatchObject({
      exposure: { introspection: true },
      explorer: { enabled: true },
    });
  });

  it('keeps the rules between variables', () => {
    expect(problemsOf({ AUTH_JWKS_URL: 'https://idp.example/jwks' })).toEqual(['AUTH_ISSUER is required with AUTH_JWKS_URL or AUTH_JWKS_FILE']);
    expect(problemsOf({ HANDOVER_RELAY_INTERVAL_MS: '5000', HANDOVER_RELAY_MAX_BACKOFF_MS: '1000' })).toEqual([
      'HANDOVER_RELAY_MAX_BACKOFF_MS must be at least HANDOVER_RELAY_INTERVAL_MS',
    ]);
    expect(loadGatewayConfig({ HANDOVER_RELAY: 'off' }).handoverRelay.enabled).toBe(false);
  });
});
