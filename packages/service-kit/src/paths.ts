import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, where the code finds the files it reads at run time (the access policy,
 * migrations, SDL). Compiled (`npm run build`), that is `dist/`, which mirrors the repository.
 */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Where the development defaults keep their state (embedded databases, generated keys, the
 * development issuer): the checkout's `.data/`, also for the compiled services in `dist/` that
 * `npm start` runs, so that they and the tools run from source (`npm run token`, `npm run seed`)
 * share one set of keys and databases.
 */
export const dataRoot = join(repositoryRoot, import.meta.url.endsWith('.js') ? '..' : '.', '.data');
