export {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  canonicalJson,
  chainHash,
  GENESIS_HASH,
  type AuditAction,
  type AuditOutcome,
  type AuditRecord,
  type AuditRecordInput,
  type ChainBreak,
  type ChainHead,
} from './chain.js';
export { AUDIT_MIGRATIONS_DIR, type AuditConfig } from './config.js';
export { AuditInputError, AuditLog, verifyAuditChain, type VerifyResult } from './log.js';
export { AUDIT_SCHEMA_FILE, createAuditSchema } from './subgraph.js';
