import { Worker } from 'node:worker_threads';
import type { SqlDatabase } from './database.js';

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { message: string; code?: string };
}

/** An error raised in the worker, with the SQLSTATE `code` callers branch on (e.g. 23505). */
export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Embedded PGlite on a worker thread (see pglite-worker-thread.mjs), behind the SqlDatabase
 * interface. If the thread dies, every pending and later statement fails: callers see a
 * database that is down, never a hang.
 */
export async function openPGliteOnWorker(dataDir: string): Promise<SqlDatabase> {
  const worker = new Worker(new URL('./pglite-worker-thread.mjs', import.meta.url), { workerData: { dataDir } });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined;

  const opened = new Promise<void>((resolve, reject) => pending.set(0, { resolve: () => resolve(), reject }));
  worker.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new EmbeddedDatabaseError(reply.error?.message ?? 'embedded database error', reply.error?.code));
  });
  const fail = (error: Error) => {
    failure ??= new EmbeddedDatabaseError(`The embedded database thread stopped: ${error.message}`, undefined);
    for (const waiter of pending.values()) waiter.reject(failure);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));

  const call = (op: 'query' | 'exec' | 'close', sql?: string, params?: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, sql, params });
    });

  try {
    await opened;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    exec: async (script) => {
      await call('exec', script);
    },
    query: async <Row extends Record<string, unknown>>(sql: string, params?: unknown[]) => (await call('query', sql, params ?? [])) as Row[],
    close: () =>
      (closing ??= (async () => {
        if (!failure) await call('close').catch(() => undefined);
        await worker.terminate();
      })()),
  };
}
