// The thread side of pglite-worker.ts: one PGlite instance, statements run in arrival order.
// Plain JavaScript so the worker needs no TypeScript loader, whatever runs the parent
// (tsx, vitest, node).
import { mkdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

if (!workerData.dataDir.startsWith('memory://')) mkdirSync(workerData.dataDir, { recursive: true });
const opening = PGlite.create(workerData.dataDir);
opening.then(
  () => parentPort.postMessage({ id: 0, ok: true }),
  (error) => parentPort.postMessage({ id: 0, ok: false, error: describe(error) }),
);

parentPort.on('message', async ({ id, op, sql, params }) => {
  try {
    const client = await opening;
    if (op === 'close') {
      await client.close();
      parentPort.postMessage({ id, ok: true });
      return;
    }
    if (op === 'exec') {
      await client.exec(sql);
      parentPort.postMessage({ id, ok: true, result: undefined });
      return;
    }
    parentPort.postMessage({ id, ok: true, result: (await client.query(sql, params)).rows });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: describe(error) });
  }
});

/**
 * What crosses the thread boundary of an error: message and SQLSTATE (callers branch on it).
 * PGlite's WebAssembly can also throw plain objects (an Emscripten exit status, an abort), whose
 * String() is "[object Object]": their message, name or status is used instead.
 */
function describe(error) {
  const code = typeof error?.code === 'string' ? error.code : undefined;
  if (error instanceof Error) return { message: error.message || error.name, code };
  if (error !== null && typeof error === 'object') {
    const message = typeof error.message === 'string' && error.message ? error.message : typeof error.name === 'string' && error.name ? error.name : undefined;
    const status = typeof error.status === 'number' ? ` (status ${error.status})` : '';
    let fields = '';
    try {
      fields = JSON.stringify(error).slice(0, 200);
    } catch {
      fields = Object.keys(error).join(', ');
    }
    return { message: `${message ?? `${error.constructor?.name ?? 'object'} ${fields}`}${status}`, code };
  }
  return { message: String(error), code };
}
