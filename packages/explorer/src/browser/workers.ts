/**
 * Monaco (GraphiQL 5's editor) runs its language services in web workers. They are bundled
 * next to the page and served by the gateway, so nothing is fetched from a CDN.
 */
import type { WorkerLabel } from '../page-config.js';

export function setUpMonacoWorkers(workers: Record<WorkerLabel, string>): void {
  (globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
    getWorker(_workerId: string, label: string): Worker {
      const url = label === 'json' || label === 'graphql' ? workers[label] : workers.editor;
      return new Worker(url);
    },
  };
}
