import { BsnScalar, DateScalar, DateTimeScalar } from '@ketengraph/service-kit';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { describe, expect, it } from 'vitest';

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return (error as GraphQLError).extensions.code;
  }
  return null;
}

const literal = (value: string): ValueNode => ({ kind: Kind.STRING, value });

describe('Date', () => {
  it('parses YYYY-MM-DD to UTC midnight, from variables and literals', () => {
    expect(DateScalar.parseValue('2026-11-22')).toEqual(new Date('2026-11-22T00:00:00Z'));
    expect(DateScalar.parseLiteral(literal('2024-02-29'))).toEqual(new Date('2024-02-29T00:00:00Z'));
  });

  it.each(['2026-02-30', '2025-02-29', '2026-13-01', '2026-04-31', '2026-00-10'])('refuses the non-existent date %s', (value) => {
    expect(refusal(() => DateScalar.parseValue(value))).toBe('BAD_USER_INPUT');
    expect(refusal(() => DateScalar.parseLiteral(literal(value)))).toBe('BAD_USER_INPUT');
  });

  it.each(['22-11-2026', '2026/11/22', '2026-1-5', '20261122', '2026-11-22T00:00:00Z', ' 2026-11-22', 'November 22, 2026', ''])(
    'refuses the non-ISO string %j',
    (value) => {
      expect(refusal(() => DateScalar.parseValue(value))).toBe('BAD_USER_INPUT');
    },
  );

  it('refuses non-strings', () => {
    expect(refusal(() => DateScalar.parseValue(20261122))).toBe('BAD_USER_INPUT');
    expect(refusal(() => DateScalar.parseValue(null))).toBe('BAD_USER_INPUT');
    expect(refusal(() => DateScalar.parseLiteral({ kind: Kind.INT, value: '20261122' }))).toBe('BAD_USER_INPUT');
  });

  it('serialises a Date as its UTC calendar date', () => {
    expect(DateScalar.serialize(new Date('2026-11-22T00:00:00Z'))).toBe('2026-11-22');
  });
});

describe('DateTime', () => {
  it('parses ISO 8601 with a time zone', () => {
    expect(DateTimeScalar.parseValue('2026-11-22T09:30:00Z')).toEqual(new Date('2026-11-22T09:30:00Z'));
    expect(DateTimeScalar.parseValue('2026-11-22T10:30:00.250+01:00')).toEqual(new Date('2026-11-22T09:30:00.250Z'));
    expect(DateTimeScalar.parseLiteral(literal('2026-11-22T09:30Z'))).toEqual(new Date('2026-11-22T09:30:00Z'));
  });

  it.each(['1', '2026', 'March 7 2026', '2026-11-22', '2026-11-22 09:30:00Z', '2026-11-22T09:30:00', '2026-02-30T09:30:00Z', '2026-11-22T25:00:00Z', ''])(
    'refuses %j',
    (value) => {
      expect(refusal(() => DateTimeScalar.parseValue(value))).toBe('BAD_USER_INPUT');
    },
  );

  it('serialises to ISO 8601 in UTC', () => {
    expect(DateTimeScalar.serialize(new Date('2026-11-22T09:30:00Z'))).toBe('2026-11-22T09:30:00.000Z');
  });
});

describe('BSN (11-check)', () => {
  it.each(['111222333', '123456782', '990000011'])('accepts %s from variables and literals', (bsn) => {
    expect(BsnScalar.parseValue(bsn)).toBe(bsn);
    expect(BsnScalar.parseLiteral(literal(bsn))).toBe(bsn);
  });

  it.each([
    ['a wrong check digit', '111222334'],
    ['another wrong check digit', '123456789'],
    ['eight digits', '12345678'],
    ['ten digits', '1112223330'],
    ['a letter', '11122233a'],
    ['spaces', '111 222 333'],
    ['the empty string', ''],
  ])('refuses %s with BAD_USER_INPUT', (_, bsn) => {
    expect(refusal(() => BsnScalar.parseValue(bsn))).toBe('BAD_USER_INPUT');
    expect(refusal(() => BsnScalar.parseLiteral(literal(bsn)))).toBe('BAD_USER_INPUT');
  });

  it('refuses a number (a BSN can start with 0) and never repeats the value in its message', () => {
    expect(refusal(() => BsnScalar.parseValue(111222333))).toBe('BAD_USER_INPUT');
    expect(refusal(() => BsnScalar.parseLiteral({ kind: Kind.INT, value: '111222333' }))).toBe('BAD_USER_INPUT');
    expect(() => BsnScalar.parseValue('111222334')).toThrow(/^(?!.*111222334)/);
  });
});
