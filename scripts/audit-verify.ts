/**
 * `npm run audit:verify`: walks the gateway's audit log (AUDIT_DATABASE_URL, or the embedded
 * database in AUDIT_DATA_DIR / .data/gateway-audit) and checks its hash chain, page by page.
 * Prints OK with the record count and the chain head, or the first broken record; exit code 1
 * when the chain is broken or there is no audit log. With the embedded database, stop the
 * gateway first (an embedded database has one owner).
 */
import { openDatabase } from '@ketengraph/service-kit';
import { loadAuditConfig } from '../gateway/src/audit/config.js';
import { verifyAuditChain } from '../gateway/src/audit/log.js';

const config = loadAuditConfig();
const where = config.databaseUrl ? 'AUDIT_DATABASE_URL' : config.dataDir;
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
let exitCode = 0;
try {
  const [table] = await db.query<{ exists: boolean }>(`SELECT to_regclass('public.audit_record') IS NOT NULL AS "exists"`);
  if (!table?.exists) {
    console.error(`No audit log found at ${where}.`);
    exitCode = 1;
  } else {
    const result = await verifyAuditChain(db);
    if (result.ok) {
      console.log(`OK: ${result.count} audit records, chain intact (head ${result.head.hash}).`);
    } else {
      console.error(`BROKEN at record ${result.sequence} (event ${result.eventId}): ${result.reason}. ${result.count} records before it verify.`);
      exitCode = 1;
    }
  }
} finally {
  await db.close();
}
// Set explicitly after closing: PGlite's runtime resets process.exitCode when it shuts down.
process.exit(exitCode);
