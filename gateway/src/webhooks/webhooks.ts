import { domainError } from '@ketengraph/service-kit';
import type { GraphQLSchema } from 'graphql';
import type { EventFeed } from '../events/feed.js';
import type { WebhookConfig } from './config.js';
import type { WebhookPayloadResolver } from './contract.js';
import { WebhookDispatcher } from './dispatcher.js';
import { EndpointManager } from './endpoints.js';
import { WebhookStore } from './store.js';
import { createWebhookSchema } from './subgraph.js';

/**
 * The gateway's webhooks: the `webhooks` subgraph (registration), and once the event feed runs,
 * the dispatcher that delivers. The gateway opens it before composing (the subgraph is part of
 * the supergraph), starts it when the feed and payload resolution are ready, and closes it on
 * shutdown before the feed and the audit log it resolves through.
 */
export class Webhooks {
  readonly schema: GraphQLSchema;
  private apiSchema: GraphQLSchema | undefined;
  private feed: Pick<EventFeed, 'head'> | undefined;
  private dispatcher: WebhookDispatcher | undefined;

  private constructor(
    readonly store: WebhookStore,
    private readonly config: WebhookConfig,
  ) {
    const manager = new EndpointManager({
      store,
      config,
      apiSchema: () => this.apiSchema,
      head: () => {
        if (!this.feed) throw domainError('DEPENDENCY_UNAVAILABLE', 'The event feed is not running yet; try again shortly.');
        return this.feed.head();
      },
      wake: () => this.dispatcher?.wake(),
    });
    this.schema = createWebhookSchema(manager, store);
  }

  static async open(config: WebhookConfig): Promise<Webhooks> {
    return new Webhooks(await WebhookStore.open(config), config);
  }

  /** The gateway's API schema, whenever it (re)loads a supergraph: selections are checked against it. */
  useApiSchema(schema: GraphQLSchema): void {
    this.apiSchema = schema;
  }

  /** Starts enqueueing and delivering. */
  start(feed: Pick<EventFeed, 'read' | 'head' | 'onEvents'>, resolve: WebhookPayloadResolver): void {
    if (this.dispatcher) throw new Error('Webhook delivery is running already.');
    this.feed = feed;
    this.dispatcher = new WebhookDispatcher({ store: this.store, feed, resolve, config: this.config });
    this.dispatcher.start();
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
