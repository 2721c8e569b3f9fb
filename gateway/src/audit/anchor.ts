/**
 * Anchors the access log outside the database it lives in, so that whoever holds that database
 * (and can disable its triggers, recompute hashes and delete rows) is still found out:
 *
 * - every record carries a **seal**, HMAC-SHA256(key, "ketengraph-audit-seal" NUL hash): a row
 *   appended, or a chain recomputed after an edit, without the key has no valid seal;
 * - periodic **checkpoints** (sequence, head hash, record count, time, HMAC under the same key),
 *   like Certificate Transparency's signed tree heads, are appended to a file outside the database
 *   and written to the gateway's log and metrics, so an external collector keeps copies: a deleted
 *   tail is missing against the last checkpoint.
 *
 * The key (AUDIT_SEAL_KEY_FILE) is kept apart from the database: in production it is mounted from a
 * secret store; in development it is generated into `.data/audit-seal-key`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What anchors one audit log: the seal key, where checkpoints go, and how often. */
export interface AuditAnchor {
  key: Buffer;
  /** Append-only JSON-lines file of checkpoints; null: only the log line and the metric. */
  checkpointFile: string | null;
  checkpointIntervalMs: number;
}

/** A signed statement: "the log had `count` records, the last `sequence` with hash `hash`, at `time`". */
export interface Checkpoint {
  sequence: number;
  hash: string;
  count: number;
  time: string;
  mac: string;
}

const SEAL_CONTEXT = 'ketengraph-audit-seal\u0000';
const CHECKPOINT_CONTEXT = 'ketengraph-audit-checkpoint\u0000';

export function sealOf(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(SEAL_CONTEXT).update(hash).digest('hex');
}

function checkpointMac(key: Buffer, c: Omit<Checkpoint, 'mac'>): string {
  return createHmac('sha256', key)
    .update(CHECKPOINT_CONTEXT)
    .update(JSON.stringify([c.sequence, c.hash, c.count, c.time]))
    .digest('hex');
}

export function signCheckpoint(key: Buffer, statement: Omit<Checkpoint, 'mac'>): Checkpoint {
  return { ...statement, mac: checkpointMac(key, statement) };
}

export function macMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

export function checkpointValid(key: Buffer, checkpoint: Checkpoint): boolean {
  return macMatches(checkpointMac(key, checkpoint), checkpoint.mac);
}

/** One line of the checkpoint file, or null when the line is not a checkpoint at all. */
export function parseCheckpoint(line: string): Checkpoint | null {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    const { sequence, hash, count, time, mac } = value;
    if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(count) || typeof hash !== 'string' || typeof time !== 'string' || typeof mac !== 'string')
      return null;
    return { sequence: sequence as number, hash, count: count as number, time, mac };
  } catch {
    return null;
  }
}

/** Every line of a checkpoint file in order (a missing file has none); unparsable lines as null, so they can be named. */
export async function readCheckpoints(file: string): Promise<(Checkpoint | null)[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseCheckpoint);
}

export async function appendCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // One write with O_APPEND: a line is never interleaved with another instance's.
  await appendFile(file, `${JSON.stringify(checkpoint)}\n`, { encoding: 'utf8', flag: 'a', mode: 0o640 });
}

/**
 * Reads the seal key (at least 32 bytes, base64url or base64 text). Without a file configured, a
 * development key is generated once into `developmentFile` (created atomically, so processes
 * starting together agree); production must name one.
 */
export function loadSealKey(file: string | undefined, developmentFile: string, production: boolean): Buffer {
  if (!file) {
    if (production) throw new Error("NODE_ENV=production: set AUDIT_SEAL_KEY_FILE to the access log's seal key (kept apart from its database).");
    if (!existsSync(developmentFile)) {
      mkdirSync(dirname(developmentFile), { recursive: true });
      const temporary = `${developmentFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(temporary, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
      try {
        linkSync(temporary, developmentFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        unlinkSync(temporary);
      }
    }
    file = developmentFile;
  }
  const text = readFileSync(file, 'utf8').trim();
  // Node's base64 decoder takes the URL-safe alphabet too.
  const key = Buffer.from(text, 'base64');
  if (key.length < 32) throw new Error(`AUDIT_SEAL_KEY_FILE (${file}) must hold at least 32 random bytes, base64-encoded.`);
  return key;
}
