/**
 * The explorer's browser bundle: GraphiQL 5, React and the Monaco editor with its web workers,
 * bundled by esbuild into `packages/explorer/generated/explorer/` (generated, never committed). Asset names
 * carry a content hash, so the gateway can let browsers cache them for good. The manifest records
 * a hash of the inputs (browser sources, this build script and the versions of the bundled
 * packages): a bundle built from other inputs is rebuilt instead of served.
 *
 * The gateway builds it on start when missing or outdated; `npm run build` builds it for a deployment.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerLabel } from './page-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..');
export const EXPLORER_BUNDLE_DIR = join(packageRoot, 'generated', 'explorer');
const MANIFEST = 'manifest.json';
const BROWSER_DIR = join(here, 'browser');
// Versions of what goes into the bundle: an upgrade by `npm install` changes the input hash.
const BUNDLED_PACKAGES = [
  'graphiql',
  '@graphiql/react',
  '@graphiql/plugin-explorer',
  '@graphiql/toolkit',
  'monaco-editor',
  'monaco-graphql',
  'react',
  'react-dom',
  'graphql-ws',
  'esbuild',
];

export interface ExplorerManifest {
  inputHash: string;
  /** File names (in the bundle folder) of the page's script and stylesheet. */
  script: string;
  stylesheet: string;
  workers: Record<WorkerLabel, string>;
}

const require = createRequire(join(packageRoot, 'package.json'));

function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    // A package without an exported package.json: find it next to its entry point.
    let dir = dirname(require.resolve(name));
    while (basename(dirname(dir)) !== 'node_modules' && !basename(dirname(dir)).startsWith('@')) dir = dirname(dir);
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  }
}

/** A compiled deployment (`npm run build`) ships the bundle built with it, without the browser sources: served as it is. */
const PREBUILT = 'prebuilt';

/** Hash of everything the bundle is made of. */
export function explorerInputHash(): string {
  if (!existsSync(BROWSER_DIR)) return PREBUILT;
  const hash = createHash('sha256');
  // The browser sources, the shape they share with the gateway, and how they are built.
  for (const file of [
    ...readdirSync(BROWSER_DIR).map((name) => join(BROWSER_DIR, name)),
    join(here, 'page-config.ts'),
    fileURLToPath(import.meta.url),
  ].sort()) {
    hash.update(relative(here, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  for (const name of BUNDLED_PACKAGES) hash.update(`${name}@${packageVersion(name)}\0`);
  return hash.digest('hex');
}

/** The manifest of an up-to-date bundle in `dir`, or null when it is missing or was built from other inputs. */
export function readExplorerManifest(dir: string = EXPLORER_BUNDLE_DIR, inputHash = explorerInputHash()): ExplorerManifest | null {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as ExplorerManifest;
    return manifest.inputHash === inputHash || inputHash === PREBUILT ? manifest : null;
  } catch {
    return null;
  }
}

/**
 * Builds the bundle into a fresh folder next to `dir` and then swaps it in, so a gateway serving
 * the old bundle never sees a half-written one.
 */
export async function buildExplorerBundle(dir: string = EXPLORER_BUNDLE_DIR): Promise<ExplorerManifest> {
  const { build } = await import('esbuild');
  const inputHash = explorerInputHash();
  const staging = `${dir}.${randomUUID()}.tmp`;
  mkdirSync(staging, { recursive: true });
  try {
    const common = {
      bundle: true,
      minify: true,
      outdir: staging,
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      metafile: true,
      logLevel: 'silent' as const,
      legalComments: 'linked' as const,
      define: { 'process.env.NODE_ENV': '"production"' },
      absWorkingDir: packageRoot,
    };
    const page = await build({
      ...common,
      entryPoints: { explorer: join(BROWSER_DIR, 'main.tsx') },
      format: 'iife',
      platform: 'browser',
      target: ['es2022'],
      jsx: 'automatic',
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
    });
    // Monaco starts each worker with `new Worker(url)`: classic scripts, one file each.
    const workers = await build({
      ...common,
      entryPoints: {
        'editor.worker': require.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
        'json.worker': require.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
        'graphql.worker': require.resolve('monaco-graphql/esm/graphql.worker.js'),
      },
      format: 'iife',
      platform: 'browser',
      target: ['es2022'],
    });
    const outputs = [...Object.entries(page.metafile!.outputs), ...Object.entries(workers.metafile!.outputs)];
    const output = (test: (path: string, entry: string | undefined) => boolean): string => {
      const found = outputs.find(([path, meta]) => test(path, meta.entryPoint));
      if (!found) throw new Error('The explorer bundle lacks an expected output.');
      return basename(found[0]);
    };
    const worker = (name: string) => output((path) => basename(path).startsWith(`${name}.worker-`) && path.endsWith('.js'));
    const manifest: ExplorerManifest = {
      inputHash,
      script: output((path, entry) => entry !== undefined && path.endsWith('.js') && basename(path).startsWith('explorer-')),
      stylesheet: output((path) => basename(path).startsWith('explorer-') && path.endsWith('.css')),
      workers: { editor: worker('editor'), json: worker('json'), graphql: worker('graphql') },
    };
    // Compressed once here, so the gateway never compresses megabytes on its event loop.
    for (const name of readdirSync(staging).filter((file) => /\.(js|css)$/.test(file))) {
      writeFileSync(join(staging, `${name}.gz`), gzipSync(readFileSync(join(staging, name)), { level: 9 }));
    }
    writeFileSync(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
    const old = `${dir}.${randomUUID()}.old`;
    try {
      renameSync(dir, old);
    } catch {
      // no previous bundle
    }
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another process (a second gateway, `npm run build`) swapped in its build first: same inputs, same files.
      const theirs = readExplorerManifest(dir, inputHash);
      if (!theirs) throw error;
      rmSync(staging, { recursive: true, force: true });
      return theirs;
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
    return manifest;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

// `tsx packages/explorer/src/bundle.ts` (from scripts/build.mjs): build unless up to date.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (readExplorerManifest()) {
    console.log('explorer bundle up to date');
  } else {
    const started = Date.now();
    await buildExplorerBundle();
    console.log(`explorer bundle built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
