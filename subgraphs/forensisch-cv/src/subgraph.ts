import { fileURLToPath } from 'node:url';
import type { SubgraphModule } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import { EPD_ENV, EpdSync, loadEpdSettings, problemErrors, remotePeers } from './epd/sync.js';
import { PrismaClient } from './generated/prisma/client.js';
import { createLoaders } from './loaders.js';
import { access } from './access.js';
import { resolvers } from './resolvers.js';
import { seed } from './seed.js';

// One EPD engine per database (a process runs one subgraph; tests may start several), made with the first request.
const engines = new WeakMap<PrismaClient, EpdSync>();
function engineFor(prisma: PrismaClient): EpdSync {
  let engine = engines.get(prisma);
  if (!engine) engines.set(prisma, (engine = new EpdSync(prisma, loadEpdSettings())));
  return engine;
}

/** forensisch-cv: the forensic CV that travels with the patient, append-only and versioned. */
export const forensischCv: SubgraphModule<PrismaClient, Context> = {
  name: 'forensisch-cv',
  defaultPort: 4003,
  env: EPD_ENV,
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolvers: resolvers as SubgraphModule<PrismaClient, Context>['resolvers'],
  createPrisma: (adapter) => {
    const prisma = new PrismaClient({ adapter });
    // Read the EPD configuration at start, so a broken EPD_SOURCES_FILE stops the process there.
    engineFor(prisma);
    return prisma;
  },
  createContext: (base) => {
    const epdSync = engineFor(base.prisma);
    return {
      ...base,
      loaders: createLoaders(base.prisma, base.db),
      epdSync,
      epd: epdSync.forRequest(base.access, remotePeers(base.peers, base.gatewayToken, 3000)),
    };
  },
  access,
  isEmpty: async (prisma) => (await prisma.cvEntry.count()) === 0,
  seed,
  plugins: [
    {
      // EPD problems do not fail a field: its stored entries are answered, and the problem is added as a coded error at its path.
      async requestDidStart() {
        return {
          async willSendResponse({ response, contextValue }) {
            const problems = contextValue.epd?.problems ?? [];
            if (!problems.length || response.body.kind !== 'single') return;
            response.body.singleResult.errors = [...(response.body.singleResult.errors ?? []), ...problemErrors(problems)];
          },
        };
      },
    },
  ],
};
