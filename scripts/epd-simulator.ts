/**
 * `npm start`'s simulated EPDs (development only): FHIR R4 servers for three seeded providers
 * (subgraphs/forensisch-cv/src/epd/simulator.ts), deterministic from the same seed as the
 * subgraphs, on one port. Writes ketengraph's client key and the EPD_SOURCES_FILE forensisch-cv
 * reads into .data/epd-simulator/ before it answers /ready.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulatedEpdProviders, simulatedEpdRecords, startSimulatedEpdServer } from '@ketengraph/forensisch-cv/epd-simulator';
import { DEFAULT_SEED } from '@ketengraph/seed-data';
import { dataRoot } from '@ketengraph/service-kit/tokens';
import { exportJWK, calculateJwkThumbprint, generateKeyPair, type JWK } from 'jose';

const dir = join(dataRoot, 'epd-simulator');
const port = Number(process.env.EPD_SIMULATOR_PORT ?? 4010);
const seed = Number(process.env.SEED ?? DEFAULT_SEED);
const patients = Number(process.env.SEED_PATIENTS ?? 2000);
const CLIENT_ID = 'ketengraph';

mkdirSync(dir, { recursive: true });
const keyFile = join(dir, 'client-key.json');
if (!existsSync(keyFile)) {
  const { privateKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = await exportJWK(privateKey);
  writeFileSync(keyFile, JSON.stringify({ ...jwk, alg: 'ES384', kid: await calculateJwkThumbprint(jwk) }), { mode: 0o600 });
}
const privateKey = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
const { d: _d, ...publicKey } = privateKey;

const providers = simulatedEpdProviders(seed, patients);
const server = await startSimulatedEpdServer({
  port,
  clientId: CLIENT_ID,
  clientJwks: { keys: [publicKey] },
  records: simulatedEpdRecords(seed, patients, providers),
});
writeFileSync(
  join(dir, 'sources.json'),
  JSON.stringify(
    {
      sources: providers.map((providerId) => ({
        providerId,
        fhirBaseUrl: `${server.url}/fhir/${providerId}`,
        smart: { tokenUrl: `${server.url}/fhir/${providerId}/auth/token`, clientId: CLIENT_ID, privateKeyFile: 'client-key.json' },
      })),
    },
    null,
    2,
  ),
);
console.log(JSON.stringify({ service: 'epd-simulator', level: 'info', msg: 'listening', url: server.url, providers }));

const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
