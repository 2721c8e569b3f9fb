/**
 * `npm run audit:verify`: walks the gateway's audit log (AUDIT_DATABASE_URL, or the embedded
 * database in AUDIT_DATA_DIR / .data/gateway-audit) and checks its hash chain, every record's seal
 * (AUDIT_SEAL_KEY_FILE) and the signed checkpoints (AUDIT_CHECKPOINT_FILE), page by page. Prints OK
 * with the record count, the chain head and how much of it the last checkpoint anchors, or names
 * what is missing or altered; exit code 1 then, or when there is no audit log. Without either
 * setting, the log `npm start` keeps on the embedded PostgreSQL server (started for the check
 * unless it runs); with EMBEDDED_DATABASE=pglite, stop the gateway first (an embedded PGlite
 * database has one owner).
 */
import { openDatabase } from '@ketengraph/service-kit';
import { readCheckpoints } from '../gateway/src/audit/anchor.js';
import { resolveAnchor } from '../gateway/src/audit/config.js';
import { loadAuditConfig } from '../gateway/src/config/index.js';
import { verifyAuditChain } from '../gateway/src/audit/log.js';
import { databaseName, embeddedAuditCheckpoints, embeddedDatabaseConfig, startEmbeddedPostgres } from './embedded-postgres.js';

const embedded = embeddedDatabaseConfig();
const server =
  !process.env.AUDIT_DATABASE_URL && !process.env.AUDIT_DATA_DIR && embedded.engine === 'postgres' ? await startEmbeddedPostgres(embedded) : undefined;
if (server) {
  process.env.AUDIT_DATABASE_URL = server.url(databaseName('gateway-audit'));
  process.env.AUDIT_CHECKPOINT_FILE ||= embeddedAuditCheckpoints(embedded.dir);
}
const config = loadAuditConfig();
const anchor = resolveAnchor(config.anchor!);
const where = server ? 'the embedded PostgreSQL server (database gateway_audit)' : config.databaseUrl ? 'AUDIT_DATABASE_URL' : config.dataDir;
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
let exitCode = 0;
try {
  const [table] = await db.query<{ exists: boolean }>(`SELECT to_regclass('public.audit_record') IS NOT NULL AS "exists"`);
  if (!table?.exists) {
    console.error(`No audit log found at ${where}.`);
    exitCode = 1;
  } else {
    const checkpoints = anchor.checkpointFile ? await readCheckpoints(anchor.checkpointFile) : [];
    const result = await verifyAuditChain(db, { anchor: { key: anchor.key, checkpoints } });
    if (result.ok) {
      const anchored = result.anchored!;
      const tail =
        anchored.unanchored > 0
          ? `; the last ${anchored.unanchored} records are sealed but not yet anchored by a checkpoint (a deletion of them would not show)`
          : '';
      console.log(
        `OK: ${result.count} audit records, chain and seals intact (head ${result.head.hash}); ${checkpoints.length} checkpoints${anchored.time ? `, the last at record ${anchored.sequence} (${anchored.time})` : ''}${tail}.`,
      );
    } else {
      const record = result.eventId ? `record ${result.sequence} (event ${result.eventId})` : `record ${result.sequence}`;
      console.error(`BROKEN at ${record}: ${result.reason}${result.detail ? ` — ${result.detail}` : ''}. ${result.count} records before it verify.`);
      exitCode = 1;
    }
  }
} finally {
  await db.close();
  await server?.stop();
}
// Set explicitly after closing: PGlite's runtime resets process.exitCode when it shuts down.
process.exit(exitCode);
