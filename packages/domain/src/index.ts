export * from './bsn.js';
export * from './security-level.js';
export * from './vocabulary.js';
