import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module). Node and the Apollo packages load the CJS
    // build; without this alias Vite would hand our sources the ESM build, two GraphQLError
    // classes would exist, and the kit's error masking would turn every refusal into
    // INTERNAL_SERVER_ERROR in tests only.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    // Request lines (info) of thousands of test requests would bury the results; tests that read logs capture them at info.
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    include: ['packages/*/test/**/*.test.ts', 'subgraphs/*/test/**/*.test.ts', 'gateway/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Ceilings, not waits. A test that starts processes (audit:verify runs the script several times)
    // took over 60 s on a busy 2-core machine.
    testTimeout: 180_000,
    // A ceiling, not a wait: a federation's beforeAll returns as soon as it is up. It took over 180 s on a
    // busy 2-core machine, so the ceiling is where only a hung start reaches it.
    hookTimeout: 600_000,
    // Federation tests start real subgraph processes and databases; two cores do not gain from more.
    maxWorkers: 2,
  },
});
