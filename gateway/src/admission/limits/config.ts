/** How large an operation may be; each limit has its own error code (see codes.ts). */
export interface LimitsConfig {
  /** MAX_DEPTH: nesting of selections, fragments counted (default 15). */
  depth: number;
  /** MAX_ALIASES: aliased fields in one operation (default 30). */
  aliases: number;
  /** MAX_TOKENS: lexical tokens in the document (default 4000). */
  tokens: number;
  /** MAX_DIRECTIVES: directives in one operation (default 30). */
  directives: number;
  /**
   * MAX_COST: graphql-armor's cost estimate (objects 2, scalars 1, ×1.5 per level of nesting;
   * default 500000 — the heaviest registered operation, PatientsTrajectories, costs about 283000).
   */
  cost: number;
  /** MAX_LIST_SIZE: largest `first` a list may be asked for (default 100). */
  listSize: number;
  /** MAX_BATCH_SIZE: operations in one array body (default 10; 1 turns batching off). */
  batchSize: number;
}
