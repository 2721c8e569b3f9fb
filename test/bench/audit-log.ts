/**
 * `npx tsx test/bench/audit-log.ts`
 *
 * The embedded audit log's cost to the gateway's event loop: 32 concurrent "requests" append one
 * record each (2,000 in all), with PGlite on the calling thread and on a worker thread
 * (`openSqlDatabase`, what the gateway uses). Prints appends per second and main-thread busy
 * time per append (event-loop utilisation).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrate, openDatabase, openSqlDatabase } from '@ketengraph/service-kit';
import { AUDIT_MIGRATIONS_DIR } from '../../gateway/src/audit/config.js';
import { AuditLog } from '../../gateway/src/audit/log.js';

const APPENDS = 2000;
const CONCURRENCY = 32;

const record = () => ({
  eventId: randomUUID(),
  occurredAt: new Date(),
  action: 'read' as const,
  patientId: randomUUID(),
  userId: 'bench',
  organisationId: 'dji',
  role: 'plaatser',
  purpose: 'plaatsing',
  fieldsDelivered: ['Patient.bsn', 'Patient.name', 'Placement.status'],
  categoriesDelivered: ['identity', 'logistics'],
  fieldsWithheld: [],
  categoriesWithheld: [],
  outcome: 'granted' as const,
  requestId: randomUUID(),
  operationName: 'PatientTrajectory',
});

for (const mode of ['calling thread', 'worker thread'] as const) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ketengraph-audit-bench-'));
  const db = mode === 'worker thread' ? await openSqlDatabase({ dataDir }) : await openDatabase({ dataDir });
  await migrate(db, AUDIT_MIGRATIONS_DIR);
  const log = new AuditLog(db);
  for (let i = 0; i < 50; i++) await log.append([record()]); // warm-up
  let next = 0;
  const eluBefore = performance.eventLoopUtilization();
  const started = performance.now();
  // Each "request" appends, then yields ~1 ms as if serving the rest of a request.
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < APPENDS) {
        await log.append([record()]);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const elu = performance.eventLoopUtilization(eluBefore);
  console.log(`PGlite on the ${mode}: ${(APPENDS / seconds).toFixed(0)} appends/s, main thread busy ${(elu.active / APPENDS).toFixed(3)} ms per append`);
  await log.close();
}
