import { domainError } from '@ketengraph/service-kit';
import type { GraphQLSchema } from 'graphql';
import type { GatewayEvents } from '../index.js';
import type { WebhookConfig } from './config.js';
import { WebhookDispatcher } from './dispatcher.js';
import { EndpointManager } from './endpoints.js';
import { WebhookStore } from './store.js';
import { createWebhookSchema } from './subgraph.js';

/** What webhooks need of the gateway: its events, the API schema selections are checked against, and its trusted documents. */
export type WebhookEvents = Pick<GatewayEvents, 'feed' | 'prepare' | 'resolve'> & {
  apiSchema(): GraphQLSchema | undefined;
  /** Trusted documents, as for every request: resolves a registered operation's id, refuses an unregistered document when enforced. */
  prepareRequest?: (request: { method: string; body: unknown; search: string }) => { body: unknown; search: string };
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
      admit: (selection) => {
        const prepareRequest = this.running().prepareRequest;
        if (!prepareRequest) return selection;
        const isId = /^sha256:[0-9a-f]{64}$/i.test(selection.trim());
        const { body } = prepareRequest({ method: 'POST', body: isId ? { documentId: selection.trim() } : { query: selection }, search: '' });
        return (body as { query: string }).query;
      },
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

  /** Stops claiming, releases what is in flight, closes the database. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
    await this.store.close();
  }
}
