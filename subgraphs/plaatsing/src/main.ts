import { runSubgraphProcess } from '@ketengraph/service-kit';
import { plaatsing } from './subgraph.js';

await runSubgraphProcess(plaatsing);
