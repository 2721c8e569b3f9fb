/**
 * The whole federation in one test process: four real subgraphs over HTTP on free ports, each
 * with its own embedded database (in memory), composed into a supergraph with their actual URLs,
 * behind the real ketengraph gateway.
 */
import { forensischCv } from '@ketengraph/forensisch-cv';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@ketengraph/gateway';
import { indicatiestelling } from '@ketengraph/indicatiestelling';
import { kwaliteit } from '@ketengraph/kwaliteit';
import { createPlaatsing } from '@ketengraph/plaatsing';
import { encodeActor, startSubgraph, type Actor, type RunningSubgraph } from '@ketengraph/service-kit';
import { composeSupergraph } from '../../schema/compose.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export interface Federation {
  gateway: RunningGateway;
  subgraphs: Record<'indicatiestelling' | 'plaatsing' | 'forensisch-cv' | 'kwaliteit', RunningSubgraph<unknown>>;
  /** POSTs an operation to the gateway. */
  request<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: { actor?: Actor; operationName?: string }): Promise<GraphQLResponse<T>>;
  /** SQL statements sent by all four subgraphs so far. */
  statementCount(): number;
  close(): Promise<void>;
}

export const TEST_ACTOR: Actor = { userId: 'test-user', organisationId: 'dji-forzo', role: 'plaatser' };

export interface FederationOptions {
  seedPatients?: number;
  /** PostgreSQL URL per subgraph; subgraphs without one use an in-memory embedded database. */
  databaseUrls?: Partial<Record<keyof Federation['subgraphs'], string>>;
}

export async function startFederation(options: FederationOptions = {}): Promise<Federation> {
  const base = { port: 0, dataDir: 'memory://', seedPatients: options.seedPatients ?? 40 };
  const on = (name: keyof Federation['subgraphs']) => ({ ...base, databaseUrl: options.databaseUrls?.[name] });
  const ind = await startSubgraph(indicatiestelling, on('indicatiestelling'));
  const started: RunningSubgraph<unknown>[] = [ind as RunningSubgraph<unknown>];
  try {
    const pl = await startSubgraph(createPlaatsing({ indicatiestellingUrl: ind.url, indicatiestellingTimeoutMs: 3000 }), on('plaatsing'));
    started.push(pl as RunningSubgraph<unknown>);
    const cv = await startSubgraph(forensischCv, on('forensisch-cv'));
    started.push(cv as RunningSubgraph<unknown>);
    const kw = await startSubgraph(kwaliteit, on('kwaliteit'));
    started.push(kw as RunningSubgraph<unknown>);
    const subgraphs = { indicatiestelling: ind, plaatsing: pl, 'forensisch-cv': cv, kwaliteit: kw } as Federation['subgraphs'];
    const supergraphSdl = composeSupergraph(Object.fromEntries(Object.entries(subgraphs).map(([name, sg]) => [name, sg.url])));
    const gateway = await startGateway({ ...loadGatewayConfig({}), port: 0, supergraphSdl });
    return {
      gateway,
      subgraphs,
      request: async (query, variables, { actor = TEST_ACTOR, operationName } = {}) => {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-ketengraph-actor': encodeActor(actor) },
          body: JSON.stringify({ query, variables, operationName }),
        });
        return (await response.json()) as never;
      },
      statementCount: () => started.reduce((sum, sg) => sum + sg.db.statementCount(), 0),
      close: async () => {
        await gateway.close();
        await Promise.all(started.map((sg) => sg.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((sg) => sg.close()));
    throw error;
  }
}
