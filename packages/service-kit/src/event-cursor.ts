import { badInput } from './errors.js';

/**
 * Cursors of the placement event log: opaque to clients (base64url), carrying the event's
 * sequence number. plaatsing hands them out, the gateway reads them back to replay from.
 */
const PREFIX = 'placement-change:';

export function encodeEventCursor(sequence: bigint): string {
  return Buffer.from(`${PREFIX}${sequence}`, 'utf8').toString('base64url');
}

/** The sequence in a cursor; BAD_USER_INPUT for anything this API did not hand out. */
export function decodeEventCursor(cursor: string, field = 'after'): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^placement-change:(0|[1-9]\d{0,18})$/.exec(text);
  if (!match || encodeEventCursor(BigInt(match[1]!)) !== cursor)
    throw badInput('The cursor is not one this API handed out; use the cursor of a change you received.', field);
  return BigInt(match[1]!);
}
