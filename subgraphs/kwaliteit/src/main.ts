import { runSubgraphProcess } from '@ketengraph/service-kit';
import { kwaliteit } from './subgraph.js';

await runSubgraphProcess(kwaliteit);
