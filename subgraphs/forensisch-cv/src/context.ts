import type { SubgraphRequestContext } from '@ketengraph/service-kit';
import type { EpdRequest, EpdSync } from './epd/sync.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { Loaders } from './loaders.js';

export interface Context extends SubgraphRequestContext<PrismaClient> {
  loaders: Loaders;
  /** This request's EPD reads (batched per patient) and the problems to report. */
  epd: EpdRequest;
  /** The process's EPD sources and imports. */
  epdSync: EpdSync;
}
