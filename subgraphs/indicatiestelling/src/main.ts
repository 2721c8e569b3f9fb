import { runSubgraphProcess } from '@ketengraph/service-kit';
import { indicatiestelling } from './subgraph.js';

await runSubgraphProcess(indicatiestelling);
