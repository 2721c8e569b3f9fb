import { isValidBsn } from '@ketengraph/domain';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { ErrorCode } from './error-codes.js';

/** A value a kit scalar refuses; its message never repeats the value (a BSN is personal data). */
export class ScalarRefusal extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode } });
  }
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
// An explicit offset is required: `new Date()` alone also accepts "1" or "March 7", and reads a
// time without zone in the server's local time zone.
const DATE_TIME_PATTERN = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `new Date` rolls 2026-02-30 over into March; a calendar date must exist as written. */
function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function parseDate(value: unknown): Date {
  if (typeof value !== 'string' || !DATE_PATTERN.test(value)) {
    throw new ScalarRefusal('A Date is written as YYYY-MM-DD.');
  }
  if (!isCalendarDate(value)) {
    throw new ScalarRefusal('That Date does not exist in the calendar.');
  }
  return new Date(`${value}T00:00:00Z`);
}

function parseDateTime(value: unknown): Date {
  const match = typeof value === 'string' ? DATE_TIME_PATTERN.exec(value) : null;
  const date = match ? new Date(match[0]) : new Date(NaN);
  if (!match || Number.isNaN(date.getTime()) || !isCalendarDate(match[1]!)) {
    throw new ScalarRefusal('A DateTime is written in ISO 8601 with a time zone, e.g. 2026-11-22T09:30:00Z.');
  }
  return date;
}

function asDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') return new Date(value);
  throw new TypeError('not a date');
}

/** Calendar dates travel as YYYY-MM-DD and live as UTC-midnight Dates (Postgres `date`). */
export const DateScalar = new GraphQLScalarType<Date, string>({
  name: 'Date',
  serialize: (value) => asDate(value).toISOString().slice(0, 10),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => asDate(value).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseBsn(value: unknown): string {
  if (typeof value !== 'string' || !isValidBsn(value)) throw new ScalarRefusal('A BSN is nine digits that pass the 11-check.');
  return value;
}

/** Burgerservicenummer: parsed where the SDL declares it, so a malformed one never reaches a resolver or SQL. */
export const BsnScalar = new GraphQLScalarType<string, string>({
  name: 'BSN',
  // Stored values were checked on the way in; output only ensures a string.
  serialize: (value) => String(value),
  parseValue: parseBsn,
  parseLiteral: (ast) => parseBsn(ast.kind === Kind.STRING ? ast.value : undefined),
});

/** The scalars whose values the kit parses, by their SDL name: one definition for subgraphs and gateway. */
export const INPUT_SCALARS: Record<string, GraphQLScalarType> = { Date: DateScalar, DateTime: DateTimeScalar, BSN: BsnScalar };
