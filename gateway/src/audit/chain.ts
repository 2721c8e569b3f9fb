/**
 * The audit log's hash chain. Each record's hash is
 *
 *   hash = lowercase hex of SHA-256( UTF-8( previous_hash + canonical(record) ) )
 *
 * where previous_hash is the 64-character lowercase hex hash of the record before it (the
 * GENESIS_HASH for sequence 1) and canonical(record) is JSON without whitespace (JSON.stringify)
 * of an object with exactly these keys in exactly this order:
 *
 *   sequence (number), eventId (lowercase UUID), occurredAt (ISO 8601 UTC with milliseconds,
 *   `Date.prototype.toISOString`), action, patientId (string or null), userId, organisationId,
 *   role, purpose (string or null), fieldsDelivered, categoriesDelivered, fieldsWithheld,
 *   categoriesWithheld (arrays of strings in stored order), outcome, requestId,
 *   operationName (string or null).
 *
 * The sequence is part of the hashed content, so renumbering is as visible as editing.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export const AUDIT_ACTIONS = ['read', 'create', 'update', 'search'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_OUTCOMES = ['granted', 'partially_granted', 'denied', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What the gateway logs about one event: who, on whose behalf, which patient, which data coordinates. Never data values. */
export interface AuditRecordInput {
  eventId: string;
  occurredAt: Date;
  action: AuditAction;
  /** The patient the event touched; null when it touched none (e.g. a search without hits). */
  patientId: string | null;
  userId: string;
  organisationId: string;
  role: string;
  /** Purpose of use the caller declared; null when none was given (such requests are denied). */
  purpose: string | null;
  /** Field coordinates such as `Patient.bsn`. */
  fieldsDelivered: string[];
  categoriesDelivered: string[];
  fieldsWithheld: string[];
  categoriesWithheld: string[];
  outcome: AuditOutcome;
  requestId: string;
  operationName: string | null;
}

/** A stored record: the input plus its place in the chain. */
export interface AuditRecord extends AuditRecordInput {
  sequence: number;
  previousHash: string;
  hash: string;
}

/** Lists shared by records (the records of one request, see log.ts) are serialised once; a record's lists are never changed once made. */
const listsJson = new WeakMap<readonly string[], string>();
function listJson(list: readonly string[]): string {
  let json = listsJson.get(list);
  if (json === undefined) listsJson.set(list, (json = JSON.stringify(list)));
  return json;
}

/** Exactly `JSON.stringify` of the object in the header's key order (test: audit.test.ts), built without the object. */
export function canonicalJson(sequence: number, record: AuditRecordInput): string {
  const json = JSON.stringify;
  return (
    `{"sequence":${json(sequence)},"eventId":${json(record.eventId)},"occurredAt":${json(record.occurredAt.toISOString())},` +
    `"action":${json(record.action)},"patientId":${json(record.patientId)},"userId":${json(record.userId)},` +
    `"organisationId":${json(record.organisationId)},"role":${json(record.role)},"purpose":${json(record.purpose)},` +
    `"fieldsDelivered":${listJson(record.fieldsDelivered)},"categoriesDelivered":${listJson(record.categoriesDelivered)},` +
    `"fieldsWithheld":${listJson(record.fieldsWithheld)},"categoriesWithheld":${listJson(record.categoriesWithheld)},` +
    `"outcome":${json(record.outcome)},"requestId":${json(record.requestId)},"operationName":${json(record.operationName)}}`
  );
}

export function chainHash(previousHash: string, sequence: number, record: AuditRecordInput): string {
  return createHash('sha256')
    .update(previousHash + canonicalJson(sequence, record), 'utf8')
    .digest('hex');
}

/** Chains records onto a head (the last stored sequence and hash; 0 and GENESIS_HASH when empty). */
export function extendChain(head: ChainHead, records: readonly AuditRecordInput[]): AuditRecord[] {
  let { sequence, hash } = head;
  return records.map((record) => {
    sequence += 1;
    const previousHash = hash;
    hash = chainHash(previousHash, sequence, record);
    return { ...record, sequence, previousHash, hash };
  });
}

export interface ChainHead {
  sequence: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { sequence: 0, hash: GENESIS_HASH };

export type ChainBreak = 'gap in sequence' | 'previous-hash mismatch' | 'hash mismatch';

/**
 * Checks records that follow `head` (in sequence order); returns the first break, or the new
 * head when all of them hold. The verifier feeds it page by page.
 */
export function checkChain(
  head: ChainHead,
  records: readonly AuditRecord[],
): { ok: true; head: ChainHead } | { ok: false; record: AuditRecord; reason: ChainBreak } {
  let current = head;
  for (const record of records) {
    if (record.sequence !== current.sequence + 1) return { ok: false, record, reason: 'gap in sequence' };
    if (record.previousHash !== current.hash) return { ok: false, record, reason: 'previous-hash mismatch' };
    if (chainHash(record.previousHash, record.sequence, record) !== record.hash) return { ok: false, record, reason: 'hash mismatch' };
    current = { sequence: record.sequence, hash: record.hash };
  }
  return { ok: true, head: current };
}
