/**
 * A provider connects its own EPD (connectEpd) — never another organisation's: the caller must be
 * a zorgaanbieder acting for that provider, checked in the same transaction as the change.
 * ketengraph makes a key pair per registration and answers with the public key (a JWKS) for the
 * provider to register at its EPD's authorization server; the private key never leaves the
 * subgraph, so no secret is ever sent to or returned by the API.
 */
import { assertId } from '../domain/entries.js';
import type { Principal } from '@ketengraph/service-kit';
import { GraphQLError } from 'graphql';
import type { PrismaClient } from '../generated/prisma/client.js';
import { connectionView, generateSigningKey, registeredSources, validateEndpointUrl, type EpdConnectionView } from './sources.js';
import type { EpdSync } from './sync.js';

const MAX_CLIENT_ID_LENGTH = 200;

function requireOwnProvider(principal: Principal, providerId: string, coordinate: string): void {
  if (principal.role !== 'zorgaanbieder' || principal.organisationId !== providerId) {
    throw new GraphQLError(`${coordinate}: only the provider itself may connect or disconnect its EPD.`, { extensions: { code: 'FORBIDDEN', field: 'providerId' } });
  }
}

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
  requireOwnProvider(principal, providerId, 'connectEpd');
  if (sync.configuredSource(providerId)) {
    throw new GraphQLError('This provider\'s EPD is set in ketengraph\'s configuration; ask the operator to change it.', { extensions: { code: 'INVALID_TRANSITION' } });
  }
  const fhirBaseUrl = validateEndpointUrl(input.fhirBaseUrl, 'fhirBaseUrl', sync.settings);
  const tokenUrl = validateEndpointUrl(input.tokenUrl, 'tokenUrl', sync.settings);
  const clientId = input.clientId.trim();
  if (!clientId || clientId.length > MAX_CLIENT_ID_LENGTH || /[\u0000-\u001f]/.test(clientId)) {
    throw new GraphQLError(`clientId must be 1 to ${MAX_CLIENT_ID_LENGTH} printable characters.`, { extensions: { code: 'BAD_USER_INPUT', field: 'clientId' } });
  }
  const signingKey = await generateSigningKey();
  const now = new Date();
  // The rule depends on the token only (no data can change it), so it is settled before this single write.
  const data = { fhirBaseUrl, tokenUrl, clientId, signingKey: signingKey as object, registeredAt: now, registeredBy: principal.subject };
  await prisma.epdSource.upsert({ where: { providerId }, create: { providerId, ...data }, update: data });
  sync.sourcesChanged(providerId);
  const [source] = await registeredSources(prisma, [providerId]);
  return connectionView(source!);
}

export async function disconnectEpd(prisma: PrismaClient, sync: EpdSync, principal: Principal, providerIdInput: string): Promise<boolean> {
  const providerId = assertId(providerIdInput, 'providerId');
  requireOwnProvider(principal, providerId, 'disconnectEpd');
  const removed = (await prisma.epdSource.deleteMany({ where: { providerId } })).count > 0;
  sync.sourcesChanged(providerId);
  return removed;
}
