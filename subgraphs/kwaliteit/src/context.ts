import type { SubgraphRequestContext } from '@ketengraph/service-kit';
import type { PrismaClient } from './generated/prisma/client.js';
import type { Loaders } from './loaders.js';

export interface Context extends SubgraphRequestContext<PrismaClient> {
  loaders: Loaders;
}

/** A reference to an entity another subgraph owns (Provider, Trajectory): kwaliteit only knows its id. */
export interface EntityRef {
  id: string;
}
