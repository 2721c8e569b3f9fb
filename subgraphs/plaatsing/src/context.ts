import type { SubgraphRequestContext } from '@ketengraph/service-kit';
import type { EventSignal } from './events.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { IndicationSource } from './indications.js';
import type { Loaders } from './loaders.js';

export interface Context extends SubgraphRequestContext<PrismaClient> {
  loaders: Loaders;
  indications: IndicationSource;
  /** How far back the event feed replays (EVENT_RETENTION_DAYS). */
  eventRetentionDays: number;
  /** Wakes feed reads waiting for the next change. */
  eventSignal: EventSignal;
}
