import { fileURLToPath } from 'node:url';
import type { SubgraphModule } from '@ketengraph/service-kit';
import { DEFAULT_EVENT_RETENTION_DAYS, loadPlaatsingConfig, PLAATSING_ENV, type PlaatsingConfig } from './config.js';
import type { Context } from './context.js';
import { EVENT_CHANNEL, EventSignal } from './events.js';
import { PrismaClient } from './generated/prisma/client.js';
import { httpIndicationSource } from './indications.js';
import { createLoaders } from './loaders.js';
import { access } from './access.js';
import { resolvers } from './resolvers.js';
import { seed } from './seed.js';

/** plaatsing: providers and their capacity, placements through their lifecycle, placement events. */
export function createPlaatsing(config: PlaatsingConfig): SubgraphModule<PrismaClient, Context> {
  const indications = httpIndicationSource(config.indicatiestellingUrl, config.indicatiestellingTimeoutMs);
  const eventRetentionDays = config.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS;
  const eventSignal = new EventSignal();
  return {
    name: 'plaatsing',
    defaultPort: 4002,
    env: PLAATSING_ENV,
    root: fileURLToPath(new URL('..', import.meta.url)),
    resolvers: resolvers as SubgraphModule<PrismaClient, Context>['resolvers'],
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    createContext: (base) => ({ ...base, loaders: createLoaders(base.prisma, base.db), indications, eventRetentionDays, eventSignal }),
    attach: (db) => db.listen(EVENT_CHANNEL, () => eventSignal.notify()),
    access,
    isEmpty: async (prisma) => (await prisma.provider.count()) === 0,
    seed,
  };
}

export const plaatsing = createPlaatsing(loadPlaatsingConfig());
