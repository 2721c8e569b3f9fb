import { errorDetails, serviceLogger } from '@ketengraph/service-kit';

/** A part of the gateway that owns resources (connections, timers, sockets, files). */
export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

const log = serviceLogger('gateway');

/**
 * Starts the components in their order. When one fails, those already started are stopped in
 * reverse order and the failure is thrown. The returned function stops every started component
 * in reverse order (once); a component that fails to stop does not keep the others running, and
 * the first such failure is thrown at the end.
 */
export async function startInOrder(components: readonly Component[]): Promise<() => Promise<void>> {
  const started: Component[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = () =>
    (stopping ??= (async () => {
      let failure: unknown = null;
      for (const component of started.toReversed()) {
        try {
          await component.stop();
        } catch (error) {
          log.error({ component: component.name, ...errorDetails(error) }, 'component did not stop cleanly');
          failure ??= error;
        }
      }
      if (failure) throw failure;
    })());
  try {
    for (const component of components) {
      await component.start();
      started.push(component);
    }
  } catch (error) {
    await stopAll().catch(() => undefined); // logged above; the start's failure is the one to report
    throw error;
  }
  return stopAll;
}
