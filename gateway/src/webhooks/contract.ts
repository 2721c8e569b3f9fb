import type { Principal } from '@ketengraph/service-kit';
import type { DocumentNode } from 'graphql';
import type { PlacementChangeEvent } from '../events/feed.js';

/** What a delivery needs resolved: the event's payload for the endpoint's selection, as its owner. */
export interface PayloadRequest {
  event: PlacementChangeEvent;
  document: DocumentNode;
  principal: Principal;
  requestId: string;
}

/**
 * Resolves a payload exactly like a subscription event (authorised, completed, audited), or
 * `'skip'` when the principal may not see the event at all.
 */
export type WebhookPayloadResolver = (request: PayloadRequest) => Promise<'skip' | { data: unknown; errors?: readonly unknown[] }>;
