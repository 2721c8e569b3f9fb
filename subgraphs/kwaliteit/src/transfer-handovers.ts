/**
 * The handover of every transfer (overplaatsing): plaatsing's event feed, followed by the gateway's
 * handover relay, names each transfer; kwaliteit records its handover once. The receiving
 * placement's event sequence is the transfer's identity (unique here), and the relay position
 * moves forward in the same transaction as the handovers it covers, so a retry, a restart or a
 * second gateway relaying the same range records nothing twice and skips nothing.
 */
import { randomUUID } from 'node:crypto';
import { badInput, unauthorized } from '@ketengraph/service-kit';
import { assertId, startOfUtcDay } from './domain/common.js';
import { transferHandoverItems } from './domain/handover.js';
import type { PrismaClient } from './generated/prisma/client.js';

/** The internal scope the gateway's handover relay carries; no role is granted it. */
export const HANDOVER_RELAY_SCOPE = 'handovers:relay';
export const MAX_TRANSFERS_PER_CALL = 500;

export interface TransferInput {
  sequence: string;
  trajectoryId: string;
  patientId: string;
  fromProviderId: string;
  toProviderId: string;
  transferredAt: string;
  /** The kinds of entry the patient's forensic CV held at the transfer (forensisch-cv's cvContentKinds); see transferHandoverItems. */
  cvKinds: readonly string[];
}

export function requireRelay(scopes: readonly string[], coordinate: string): void {
  if (!scopes.includes(HANDOVER_RELAY_SCOPE)) throw unauthorized(coordinate);
}

function parseSequence(value: string, field: string): bigint {
  if (!/^(0|[1-9]\d{0,18})$/.test(value)) throw badInput('A sequence number is a non-negative decimal integer.', field);
  return BigInt(value);
}

/** Null before the relay first ran (it then starts from the feed's head: earlier transfers predate it). */
export async function relayPosition(prisma: PrismaClient): Promise<bigint | null> {
  return (await prisma.handoverRelayPosition.findUnique({ where: { id: 1 } }))?.sequence ?? null;
}

/** Records the transfers' handovers (those not recorded yet) and moves the position to at least `upTo`, in one transaction. */
export async function recordTransferHandovers(
  prisma: PrismaClient,
  upToText: string,
  transfers: readonly TransferInput[],
): Promise<{ position: bigint; recordedPatientIds: string[] }> {
  const upTo = parseSequence(upToText, 'upTo');
  if (transfers.length > MAX_TRANSFERS_PER_CALL) throw badInput(`At most ${MAX_TRANSFERS_PER_CALL} transfers per call.`, 'transfers');
  const rows = transfers.map((transfer, index) => {
    const sequence = parseSequence(transfer.sequence, `transfers.${index}.sequence`);
    if (sequence > upTo) throw badInput('A transfer lies after upTo.', `transfers.${index}.sequence`);
    const transferredAt = new Date(transfer.transferredAt);
    if (Number.isNaN(transferredAt.getTime())) throw badInput('transferredAt must be an ISO 8601 instant.', `transfers.${index}.transferredAt`);
    const fromProviderId = assertId(transfer.fromProviderId, 'fromProviderId');
    const toProviderId = assertId(transfer.toProviderId, 'toProviderId');
    if (fromProviderId === toProviderId) throw badInput('A transfer goes to another provider.', `transfers.${index}.toProviderId`);
    return {
      id: randomUUID(),
      sourceSequence: sequence,
      trajectoryId: assertId(transfer.trajectoryId, 'trajectoryId'),
      patientId: assertId(transfer.patientId, 'patientId'),
      fromProviderId,
      toProviderId,
      handedOverOn: startOfUtcDay(transferredAt),
      items: transferHandoverItems(transfer.cvKinds, `transfers.${index}.cvKinds`),
    };
  });
  return prisma.$transaction(async (tx) => {
    // ON CONFLICT DO NOTHING on the source sequence: a transfer already recorded (by a retry or another gateway) is skipped.
    const created = rows.length
      ? await tx.handover.createManyAndReturn({ data: rows, skipDuplicates: true, select: { patientId: true, sourceSequence: true } })
      : [];
    const [row] = await tx.$queryRaw<{ sequence: bigint }[]>`
      INSERT INTO "HandoverRelayPosition" ("id", "sequence") VALUES (1, ${upTo})
      ON CONFLICT ("id") DO UPDATE SET "sequence" = GREATEST("HandoverRelayPosition"."sequence", EXCLUDED."sequence")
      RETURNING "sequence"`;
    const order = new Map(rows.map((r, i) => [r.sourceSequence, i]));
    created.sort((a, b) => order.get(a.sourceSequence!)! - order.get(b.sourceSequence!)!);
    return { position: BigInt(row!.sequence), recordedPatientIds: created.map((c) => c.patientId) };
  });
}
