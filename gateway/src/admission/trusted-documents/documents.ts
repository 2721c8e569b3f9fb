import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type ErrorCode, HttpError } from '@ketengraph/service-kit';
import { trustedDocumentRejections } from '../../observability/metrics.js';

/** Written by `npm run generate` (scripts/trusted-documents.mjs) from the project's .graphql operation files; never edited. */
export const MANIFEST_FILE = new URL('./generated/manifest.json', import.meta.url).pathname;

/** Apollo's persisted query manifest format: one entry per operation, `id` the SHA-256 of `body`. */
interface Manifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: string; body: string }[];
}

export function loadTrustedDocuments(file: string, required: boolean): Map<string, string> {
  if (!existsSync(file)) {
    if (required) throw new Error(`TRUSTED_DOCUMENTS is on but ${file} does not exist; run \`npm run generate\`.`);
    return new Map();
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1)
    throw new Error(`${file} is not a persisted query manifest (version 1).`);
  return new Map(manifest.operations.map((operation) => [operation.id, operation.body]));
}

interface OperationBody {
  query?: unknown;
  documentId?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Resolves registered operations sent by id — `documentId` ("sha256:<hash>" or the bare hash) or
 * Apollo's `extensions.persistedQuery.sha256Hash` — into their document, and with `enforce`
 * refuses any document that is not registered, before it is parsed. `automaticPersistedQueries`
 * leaves unknown hashes to Apollo Server's own registration.
 */
export function trustedDocumentResolver(documents: Map<string, string>, options: { enforce: boolean; automaticPersistedQueries: boolean }) {
  const resolveOne = (operation: unknown): unknown => {
    if (typeof operation !== 'object' || operation === null || Array.isArray(operation)) return operation; // Apollo answers the malformed body
    const { documentId, ...rest } = operation as OperationBody;
    const hash = typeof documentId === 'string' ? documentId.replace(/^sha256:/, '') : rest.extensions?.persistedQuery?.sha256Hash;
    if (hash !== undefined) {
      const document = typeof hash === 'string' ? documents.get(hash.toLowerCase()) : undefined;
      if (document === undefined) {
        if (!options.enforce && documentId === undefined) {
          // Apollo Server registers it (APQ on); otherwise a document sent along runs as any free-form one, unregistered.
          if (options.automaticPersistedQueries) return operation;
          if (typeof rest.query === 'string') return { ...rest, extensions: withoutPersistedQuery(rest.extensions) };
        }
        throw refusal('PERSISTED_QUERY_NOT_FOUND', 'No registered operation has this id; use an id from the trusted documents manifest.');
      }
      if (typeof rest.query === 'string' && rest.query !== document)
        throw refusal('PERSISTED_QUERY_NOT_FOUND', 'The query does not match the registered operation with this id.');
      return { ...rest, query: document, extensions: withoutPersistedQuery(rest.extensions) };
    }
    if (options.enforce && !(typeof rest.query === 'string' && documents.has(sha256(rest.query)))) {
      throw refusal(
        'PERSISTED_QUERY_NOT_IN_LIST',
        'Only registered operations are accepted here; send the id of a trusted document (documentId or extensions.persistedQuery.sha256Hash).',
      );
    }
    return operation;
  };
  return ({ method, body, search }: { method: string; body: unknown; search: string }): { body: unknown; search: string } => {
    if (method !== 'GET') return { body: Array.isArray(body) ? body.map(resolveOne) : resolveOne(body), search };
    const params = new URLSearchParams(search);
    let extensions: OperationBody['extensions'];
    try {
      extensions = params.has('extensions') ? (JSON.parse(params.get('extensions')!) as OperationBody['extensions']) : undefined;
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', 'The extensions parameter is not valid JSON.');
    }
    const resolved = resolveOne({ query: params.get('query') ?? undefined, documentId: params.get('documentId') ?? undefined, extensions }) as OperationBody;
    if (typeof resolved.query === 'string') params.set('query', resolved.query);
    params.delete('documentId');
    if (resolved.extensions) params.set('extensions', JSON.stringify(resolved.extensions));
    return { body, search: `?${params}` };
  };
}

function withoutPersistedQuery(extensions: OperationBody['extensions']): Record<string, unknown> {
  const { persistedQuery: _, ...rest } = extensions ?? {};
  return rest;
}

function refusal(code: ErrorCode, message: string): HttpError {
  trustedDocumentRejections.inc({ code });
  return new HttpError(400, code, message);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
