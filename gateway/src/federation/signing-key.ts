import { ensureKeyPair, importSigningKey, readJson, type SigningKey } from '@ketengraph/service-kit';
import type { JWK } from 'jose';

/** The gateway's own key for its tokens to subgraphs: a file, generated for development, or given (tests). */
export type GatewaySigningKeySource = { source: 'file'; file: string } | { source: 'generated'; dir: string } | { source: 'key'; key: SigningKey };

/** The gateway's key for its tokens to subgraphs. */
export async function loadGatewaySigningKey(source: GatewaySigningKeySource, production: boolean): Promise<SigningKey> {
  switch (source.source) {
    case 'key':
      return source.key;
    case 'file':
      return importSigningKey(readJson<JWK>(source.file, 'the gateway signing key (GATEWAY_SIGNING_KEY_FILE)'));
    case 'generated':
      // Each replica would generate its own key and subgraphs would trust none of them reliably.
      if (production)
        throw new Error("Refusing to start: NODE_ENV=production requires GATEWAY_SIGNING_KEY_FILE (a private JWK) for the gateway's tokens to subgraphs.");
      return importSigningKey(await ensureKeyPair(source.dir));
  }
}
