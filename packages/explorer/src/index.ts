/**
 * The GraphQL explorer, served by the gateway itself (care networks often block public CDNs):
 *
 * - `GET /explorer`: the page (GraphiQL 5 with doc explorer, history, query builder, examples);
 *   a browser asking `GET /graphql` for HTML is redirected there.
 * - `GET /explorer/assets/<file>`: the generated bundle (content-hashed names, cached for good).
 * - `POST /explorer/dev-token` `{"user": "<sample user id>"}`: a token for a sample user, signed by
 *   the development issuer the gateway trusts. Only when it trusts one (never in production, never
 *   with an external identity provider); otherwise the page asks for the caller's own token.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { errorDetails, readBody, sendJson, serviceLogger, type Principal } from '@ketengraph/service-kit';
import type { GraphQLSchema } from 'graphql';
import { buildExplorerBundle, EXPLORER_BUNDLE_DIR, readExplorerManifest, type ExplorerManifest } from './bundle.js';
import { examplesFor } from './examples.js';
import { ASSETS_PATH, CONFIG_ELEMENT_ID, DEV_TOKEN_PATH, EXPLORER_PATH, type DevTokenResponse, type ExplorerPageConfig } from './page-config.js';
import { SAMPLE_USERS, sampleUserPrincipal } from './sample-users.js';

/** Mints a caller token for a sample user (the gateway's development issuer; never in production). */
export type DevTokenMinter = (principal: Principal, expiresInSeconds: number) => Promise<string>;

export interface ExplorerOptions {
  /** Path of the GraphQL endpoint. */
  endpoint: string;
  /** Mints sample users' tokens; null disables the route (production, external identity provider). */
  devTokens: DevTokenMinter | null;
  /** Folder of the generated bundle (default packages/explorer/generated/explorer). */
  bundleDir?: string;
}

export interface Explorer {
  /** Answers the explorer's routes; false for any other request. */
  route(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** The API schema the gateway serves now (examples it cannot run are not offered). */
  setSchema(schema: GraphQLSchema): void;
  /** Resolves when the bundle is ready (built on start when missing or outdated). */
  ready: Promise<void>;
}

export { EXPLORER_BUNDLE_DIR } from './bundle.js';
export type { ExplorerConfig } from './config.js';
export { EXAMPLE_SOURCES, examplesFor, readExample, type ExampleSource } from './examples.js';
export { CONFIG_ELEMENT_ID, EXPLORER_PATH, type ExplorerPageConfig } from './page-config.js';
export * from './sample-users.js';

const log = serviceLogger('gateway').child({ component: 'explorer' });
const DEV_TOKEN_SECONDS = 3600;
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzipped: Buffer | null;
  contentType: string;
}

export function createExplorer(options: ExplorerOptions): Explorer {
  const bundleDir = options.bundleDir ?? EXPLORER_BUNDLE_DIR;
  // Read once, then filtered again whenever the gateway loads a new supergraph.
  let examples = examplesFor(undefined);
  let manifest: ExplorerManifest | null = null;
  const assets = new Map<string, Asset>();
  const ready = (async () => {
    manifest = readExplorerManifest(bundleDir) ?? (await buildExplorerBundle(bundleDir));
  })();
  // A failed build is reported on request (503), not as an unhandled rejection.
  ready.catch((error: unknown) => log.error(errorDetails(error), 'explorer bundle build failed'));

  function asset(name: string): Asset | undefined {
    const cached = assets.get(name);
    if (cached) return cached;
    const contentType = CONTENT_TYPES[extname(name)];
    // Only files the bundle consists of: a fixed pattern, no path separators.
    if (!contentType || !/^[\w.-]+$/.test(name) || name === 'manifest.json') return undefined;
    let body: Buffer;
    try {
      body = readFileSync(join(bundleDir, name));
    } catch {
      return undefined;
    }
    let gzipped: Buffer | null = null;
    try {
      gzipped = readFileSync(join(bundleDir, `${name}.gz`)); // written by the build for scripts and stylesheets
    } catch {
      // served uncompressed
    }
    const entry = { body, gzipped, contentType };
    assets.set(name, entry);
    return entry;
  }

  function page(bundle: ExplorerManifest): string {
    const config: ExplorerPageConfig = {
      endpoint: options.endpoint,
      devTokenPath: options.devTokens ? DEV_TOKEN_PATH : null,
      sampleUsers: options.devTokens ? SAMPLE_USERS.map(({ id, label, description }) => ({ id, label, description })) : [],
      examples,
      workers: {
        editor: `${ASSETS_PATH}/${bundle.workers.editor}`,
        json: `${ASSETS_PATH}/${bundle.workers.json}`,
        graphql: `${ASSETS_PATH}/${bundle.workers.graphql}`,
      },
    };
    // `<` escaped so no string in the JSON can close the script element.
    const json = JSON.stringify(config).replaceAll('<', '\\u003c');
    return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ketengraph explorer</title>
<link rel="stylesheet" href="${ASSETS_PATH}/${bundle.stylesheet}">
<style>
  html, body, #root { height: 100%; margin: 0; }
  .explorer { display: flex; flex-direction: column; height: 100%; }
  .explorer > .graphiql-container { flex: 1; min-height: 0; }
  .explorer-bar { display: flex; gap: 1rem; align-items: center; padding: 0.5rem 1rem; font: 14px system-ui, sans-serif; border-bottom: 1px solid #ddd; }
  .explorer-bar input { width: 32rem; }
  .explorer-role-description { color: #555; }
  .explorer-error { color: #b00020; }
  .explorer-examples ul { list-style: none; padding: 0; }
  .explorer-examples li { margin: 0.5rem 0; }
  .explorer-examples button { text-align: left; cursor: pointer; }
</style>
</head>
<body>
<div id="root"></div>
<script id="${CONFIG_ELEMENT_ID}" type="application/json">${json}</script>
<script src="${ASSETS_PATH}/${bundle.script}"></script>
</body>
</html>
`;
  }

  async function mintDevToken(request: IncomingMessage, response: ServerResponse, minter: DevTokenMinter): Promise<void> {
    response.setHeader('cache-control', 'no-store');
    let userId: unknown;
    try {
      const body = await readBody(request, 4096);
      if (body === 'too-large') throw new Error('body too large');
      userId = (JSON.parse(body) as { user?: unknown }).user;
    } catch {
      return sendJson(response, 400, { error: 'Send JSON {"user": "<sample user id>"}.' });
    }
    const user = SAMPLE_USERS.find((candidate) => candidate.id === userId);
    if (!user) return sendJson(response, 400, { error: `Unknown sample user; one of ${SAMPLE_USERS.map((sample) => sample.id).join(', ')}.` });
    const body: DevTokenResponse = { token: await minter(sampleUserPrincipal(user), DEV_TOKEN_SECONDS), expiresInSeconds: DEV_TOKEN_SECONDS };
    sendJson(response, 200, body);
  }

  return {
    ready,
    setSchema: (schema) => {
      examples = examplesFor(schema);
    },
    route: async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const method = request.method ?? 'GET';
      if (url.pathname === options.endpoint && method === 'GET' && prefersHtml(request)) {
        response.writeHead(302, { location: EXPLORER_PATH, 'cache-control': 'no-cache' });
        response.end();
        return true;
      }
      if (url.pathname === DEV_TOKEN_PATH) {
        if (!options.devTokens) return false;
        if (method !== 'POST') {
          response.setHeader('allow', 'POST');
          sendJson(response, 405, { error: 'POST {"user": "<sample user id>"}.' });
          return true;
        }
        await mintDevToken(request, response, options.devTokens);
        return true;
      }
      if (url.pathname !== EXPLORER_PATH && url.pathname !== `${EXPLORER_PATH}/` && !url.pathname.startsWith(`${ASSETS_PATH}/`)) return false;
      if (method !== 'GET' && method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        sendJson(response, 405, { error: 'The explorer is read with GET.' });
        return true;
      }
      try {
        await ready;
      } catch {
        sendJson(response, 503, { error: 'The explorer bundle could not be built; the gateway log says why (`npm run build` builds it ahead).' });
        return true;
      }
      if (url.pathname.startsWith(`${ASSETS_PATH}/`)) {
        const found = asset(url.pathname.slice(ASSETS_PATH.length + 1));
        if (!found) {
          sendJson(response, 404, { error: 'not found' });
          return true;
        }
        const gzip = found.gzipped && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
        response.writeHead(200, {
          'content-type': found.contentType,
          // Names carry a content hash: a new bundle has new names.
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
          vary: 'accept-encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        response.end(method === 'HEAD' ? undefined : gzip ? found.gzipped : found.body);
        return true;
      }
      const html = page(manifest!);
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        // The page names the current bundle and carries the current examples: always revalidated.
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        // Nothing beyond the gateway itself: no CDN, no third-party requests.
        'content-security-policy':
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      });
      response.end(method === 'HEAD' ? undefined : html);
      return true;
    },
  };
}

/** A browser navigating to the endpoint, not a GraphQL client (those ask for JSON). */
function prefersHtml(request: IncomingMessage): boolean {
  const accept = String(request.headers.accept ?? '');
  return accept.includes('text/html') && !accept.includes('application/graphql-response+json') && !accept.includes('application/json');
}
