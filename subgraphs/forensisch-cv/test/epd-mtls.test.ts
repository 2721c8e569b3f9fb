/**
 * An EPD behind mutual TLS, over a real TLS socket: configured by the operator (EPD_SOURCES_FILE),
 * ketengraph presents its client certificate and checks the EPD's against the configured CA. The
 * certificates in fixtures/mtls are test-only (openssl, EC P-256, no CA key kept).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../src/epd/fhir-client.js';
import { loadConfiguredSources } from '../src/epd/sources.js';
import { loadEpdSettings } from '../src/epd/sync.js';
import { patient, searchset } from './fixtures/fhir.js';

const dir = fileURLToPath(new URL('./fixtures/mtls/', import.meta.url));
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
const settings = { ...loadEpdSettings({}), allowPrivateAddresses: true };
let url: string;
const seen: (string | undefined)[] = [];

const server = createServer(
  { key: pem('server.key.pem'), cert: pem('server.crt.pem'), ca: pem('ca.crt.pem'), requestCert: true, rejectUnauthorized: true },
  (request, response) => {
    const cn = (request.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN;
    seen.push(Array.isArray(cn) ? cn.join(',') : cn);
    response
      .writeHead(200, { 'content-type': 'application/fhir+json' })
      .end(JSON.stringify(searchset([patient('fp-9', '999999990')], { self: `${url}/Patient` })));
  },
);

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}/fhir`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function configured(cert: string, key: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'epd-sources-')), 'sources.json');
  writeFileSync(
    file,
    JSON.stringify({
      sources: [
        { providerId: 'provider-m', fhirBaseUrl: url, mutualTls: { certFile: join(dir, cert), keyFile: join(dir, key), caFile: join(dir, 'ca.crt.pem') } },
      ],
    }),
  );
  return loadConfiguredSources(file)[0]!;
}

describe('an EPD behind mutual TLS', () => {
  it('is read with the configured client certificate', async () => {
    const source = configured('client.crt.pem', 'client.key.pem');
    expect(source.auth.kind).toBe('MUTUAL_TLS');
    expect(await new FhirClient(source, settings).patientIds('999999990', AbortSignal.timeout(3000))).toEqual(['fp-9']);
    expect(seen).toEqual(['ketengraph']);
  });

  it('a certificate the EPD does not trust gets no answer (unreachable), nor does an EPD whose certificate is not from the CA', async () => {
    await expect(
      new FhirClient(configured('stranger.crt.pem', 'stranger.key.pem'), settings).patientIds('999999990', AbortSignal.timeout(3000)),
    ).rejects.toMatchObject({ reason: 'unreachable' });
    const wrongCa = { ...configured('client.crt.pem', 'client.key.pem') };
    wrongCa.auth = { ...(wrongCa.auth as Extract<typeof wrongCa.auth, { kind: 'MUTUAL_TLS' }>), ca: pem('stranger.crt.pem') };
    await expect(new FhirClient(wrongCa, settings).patientIds('999999990', AbortSignal.timeout(3000))).rejects.toMatchObject({ reason: 'unreachable' });
    expect(seen).toEqual(['ketengraph']);
  });

  it('a broken sources file stops at start with the entry named', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'epd-sources-')), 'sources.json');
    writeFileSync(
      file,
      JSON.stringify({
        sources: [
          { providerId: 'p', fhirBaseUrl: url, smart: { tokenUrl: url, clientId: 'c', privateKeyFile: 'x' }, mutualTls: { certFile: 'a', keyFile: 'b' } },
        ],
      }),
    );
    expect(() => loadConfiguredSources(file)).toThrow(/sources\[0\]: give exactly one of "smart" and "mutualTls"/);
  });
});
