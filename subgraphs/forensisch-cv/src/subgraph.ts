import { fileURLToPath } from 'node:url';
import type { SubgraphModule } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import { PrismaClient } from './generated/prisma/client.js';
import { createLoaders } from './loaders.js';
import { access } from './access.js';
import { resolvers } from './resolvers.js';
import { seed } from './seed.js';

/** forensisch-cv: the forensic CV that travels with the patient, append-only and versioned. */
export const forensischCv: SubgraphModule<PrismaClient, Context> = {
  name: 'forensisch-cv',
  defaultPort: 4003,
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolvers: resolvers as SubgraphModule<PrismaClient, Context>['resolvers'],
  createPrisma: (adapter) => new PrismaClient({ adapter }),
  createContext: (base) => ({ ...base, loaders: createLoaders(base.prisma) }),
  access,
  isEmpty: async (prisma) => (await prisma.cvEntry.count()) === 0,
  seed,
};
