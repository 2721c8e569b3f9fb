import { fileURLToPath } from 'node:url';

/** The repository root, for defaults such as the embedded databases under `.data/`. */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
