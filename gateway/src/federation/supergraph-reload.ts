import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { errorDetails, serviceLogger } from '@ketengraph/service-kit';
import { supergraphReloads } from '../observability/metrics.js';

const log = serviceLogger('gateway');

export interface SupergraphSourceOptions {
  /** The supergraph served from the start. */
  initialSdl: string;
  /** The file to follow; unset serves `initialSdl` for good (tests give the SDL directly). */
  file?: string;
  /** How often the file's modification time is checked (SUPERGRAPH_POLL_MS); 0 does not follow it. */
  pollMs: number;
  /** Turns the file's text into what the gateway loads, refusing (throwing) what ketengraph cannot serve. */
  prepare: (sdl: string) => string;
}

/**
 * The gateway's supergraph source through @apollo/gateway's own extension point (a
 * `supergraphSdl` function given `update`): the file is followed, and a changed supergraph is
 * handed to `update`, which builds and validates it before swapping. One that fails to parse,
 * validate or prepare is refused — logged and counted — and the previous one keeps serving.
 * Requests in flight finish on the schema and plan they started with.
 */
export function supergraphSource(options: SupergraphSourceOptions): SupergraphSdlHook {
  return async ({ update }) => {
    const initial = options.prepare(options.initialSdl);
    const file = options.file;
    if (!file || options.pollMs === 0) return { supergraphSdl: initial };
    let current = options.initialSdl;
    let checking = Promise.resolve();
    const check = async () => {
      const text = await readFile(file, 'utf8').catch(() => null);
      if (text === null || text === current) return;
      current = text;
      try {
        update(options.prepare(text));
        supergraphReloads.inc({ outcome: 'applied' });
        log.info({ file }, 'supergraph reloaded');
      } catch (error) {
        supergraphReloads.inc({ outcome: 'refused' });
        log.warn({ file, ...errorDetails(error) }, 'supergraph refused; the previous one keeps serving');
      }
    };
    const listener = () => {
      checking = checking.then(check);
    };
    watchFile(file, { interval: options.pollMs, persistent: false }, listener);
    return {
      supergraphSdl: initial,
      cleanup: async () => {
        unwatchFile(file, listener);
        await checking;
      },
    };
  };
}
