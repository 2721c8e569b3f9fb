/**
 * A provider connects its own EPD (connectEpd) — never another organisation's: who may is the write
 * rule of Mutation.connectEpd / disconnectEpd in schema/access-policy.json (a zorgaanbieder for its
 * own organisation), enforced by the resolvers before these run. ketengraph makes a key pair per
 * registration and answers with the public key (a JWKS) for the provider to register at its EPD's
 * authorization server; the private key never leaves the subgraph, so no secret is ever sent to or
 * returned by the API.
 */
import { assertId } from '../domain/entries.js';
import { badInput, domainError, type Principal } from '@ketengraph/service-kit';
import type { PrismaClient } from '../generated/prisma/client.js';
import { connectionView, generateSigningKey, registeredSources, validateEndpointUrl, type EpdConnectionView } from './sources.js';
import type { EpdSync } from './sync.js';

const MAX_CLIENT_ID_LENGTH = 200;

export async function epdConnectionOf(sync: EpdSync, providerId: string): Promise<EpdConnectionView | null> {
  const source = (await sync.sources()).get(providerId);
  return source ? connectionView(source) : null;
}

export async function connectEpd(
  prisma: PrismaClient,
  sync: EpdSync,
  principal: Principal,
  input: { providerId: string; fhirBaseUrl: string; tokenUrl: string; clientId: string },
): Promise<EpdConnectionView> {
  const providerId = assertId(input.providerId, 'providerId');
  if (sync.configuredSource(providerId)) {
    throw domainError('INVALID_TRANSITION', "This provider's EPD is set in ketengraph's configuration; ask the operator to change it.");
  }
  const fhirBaseUrl = validateEndpointUrl(input.fhirBaseUrl, 'fhirBaseUrl', sync.settings);
  const tokenUrl = validateEndpointUrl(input.tokenUrl, 'tokenUrl', sync.settings);
  const clientId = input.clientId.trim();
  if (!clientId || clientId.length > MAX_CLIENT_ID_LENGTH || /[\u0000-\u001f]/.test(clientId)) {
    throw badInput(`clientId must be 1 to ${MAX_CLIENT_ID_LENGTH} printable characters.`, 'clientId');
  }
  const signingKey = await generateSigningKey();
  const now = new Date();
  const data = { fhirBaseUrl, tokenUrl, clientId, signingKey: signingKey as object, registeredAt: now, registeredBy: principal.subject };
  await prisma.epdSource.upsert({ where: { providerId }, create: { providerId, ...data }, update: data });
  sync.sourcesChanged(providerId);
  const [source] = await registeredSources(prisma, [providerId]);
  return connectionView(source!);
}

export async function disconnectEpd(prisma: PrismaClient, sync: EpdSync, providerIdInput: string): Promise<boolean> {
  const providerId = assertId(providerIdInput, 'providerId');
  const removed = (await prisma.epdSource.deleteMany({ where: { providerId } })).count > 0;
  sync.sourcesChanged(providerId);
  return removed;
}
