export * from './bsn.js';
export * from './chain.js';
export * from './random.js';
