import { fileURLToPath } from 'node:url';
import type { SubgraphModule } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import { PrismaClient } from './generated/prisma/client.js';
import { createLoaders } from './loaders.js';
import { access } from './access.js';
import { resolvers } from './resolvers.js';
import { seed } from './seed.js';

/** indicatiestelling: patients, trajectories, indications and trajectory-indication bounds. */
export const indicatiestelling: SubgraphModule<PrismaClient, Context> = {
  name: 'indicatiestelling',
  defaultPort: 4001,
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolvers: resolvers as SubgraphModule<PrismaClient, Context>['resolvers'],
  createPrisma: (adapter) => new PrismaClient({ adapter }),
  createContext: (base) => ({ ...base, loaders: createLoaders(base.prisma, base.db) }),
  access,
  isEmpty: async (prisma) => (await prisma.patient.count()) === 0,
  seed,
};
