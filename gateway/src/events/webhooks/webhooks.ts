import { domainError } from '@ketengraph/service-kit';
import type { GraphQLSchema } from 'graphql';
import type { Admission } from '../../admission/admit.js';
import type { GatewayEvents } from '../index.js';
import type { WebhookConfig } from './config.js';
import { WebhookDispatcher } from './dispatcher.js';
import { EndpointManager } from './endpoints.js';
import { WebhookStore } from './store.js';
import { createWebhookSchema } from './subgraph.js';

/** What webhooks need of the gateway: its events, the API schema selections are checked against, and its admission step. */
export type WebhookEvents = Pick<GatewayEvents, 'feed' | 'prepare' | 'resolve'> & {
  apiSchema(): GraphQLSchema | undefined;
  /** Trusted documents and request limits, as for every request: a selection runs per event as the registering caller's request. */
  admission: Pick<Admission, 'selection'>;
};

/**
 * The gateway's webhooks: the `webhooks` subgraph (registration), and once the event feed runs,
 * the dispatcher that delivers. The gateway opens it before composing (the subgraph is part of
 * the supergraph), starts it when the feed and payload resolution are ready, and closes it on
 * shutdown before the feed and the audit log it resolves through.
 */
export class Webhooks {
  readonly schema: GraphQLSchema;
  private events: WebhookEvents | undefined;
  private dispatcher: WebhookDispatcher | undefined;

  private constructor(
    readonly store: WebhookStore,
    private readonly config: WebhookConfig,
  ) {
    const manager = new EndpointManager({
      store,
      config,
      apiSchema: () => this.events?.apiSchema(),
      prepare: (selection) => this.running().prepare({ document: selection }),
      admit: (schema, selection) => this.running().admission.selection(schema, selection),
      head: () => this.running().feed.head(),
      backfill: async (endpointId, fromSequence) => {
        this.running();
        await this.dispatcher!.backfill(endpointId, fromSequence);
      },
      wake: () => this.dispatcher?.wake(),
    });
    this.schema = createWebhookSchema(manager, store);
  }

  static async open(config: WebhookConfig): Promise<Webhooks> {
    return new Webhooks(await WebhookStore.open(config), config);
  }

  /** Starts enqueueing and delivering, once the gateway's events (feed, resolution) exist. */
  start(events: WebhookEvents): void {
    if (this.dispatcher) throw new Error('Webhook delivery is running already.');
    this.events = events;
    this.dispatcher = new WebhookDispatcher({ store: this.store, events, config: this.config });
    this.dispatcher.start();
  }

  private running(): WebhookEvents {
    if (!this.events) throw domainError('DEPENDENCY_UNAVAILABLE', 'The event feed is not running yet; try again shortly.');
    return this.events;
  }

  ready(): Promise<boolean> {
    return this.store.ready();
  }

  /** Stops claiming and releases what is in flight (redelivered later); registration answers DEPENDENCY_UNAVAILABLE until started again. */
  async stopDelivery(): Promise<void> {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    this.events = undefined;
    await dispatcher?.close();
  }

  /** Stops delivering, closes the database. */
  async close(): Promise<void> {
    await this.stopDelivery();
    await this.store.close();
  }
}
