import { runSubgraphProcess } from '@ketengraph/service-kit';
import { forensischCv } from './subgraph.js';

await runSubgraphProcess(forensischCv);
