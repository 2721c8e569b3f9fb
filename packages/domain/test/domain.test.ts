import { isSecurityLevel, isValidBsn, MAX_SECURITY_LEVEL, MIN_SECURITY_LEVEL } from '@ketengraph/domain';
import { describe, expect, it } from 'vitest';

describe('BSN 11-check', () => {
  it('accepts nine digits whose weighted sum is divisible by 11', () => {
    // 9·1 + 8·1 + 7·1 + 6·2 + 5·2 + 4·2 + 3·3 + 2·0 − 1·8 = 55
    expect(isValidBsn('111222308')).toBe(true);
    expect(isValidBsn('999999990')).toBe(true);
  });

  it('refuses a wrong check digit, other lengths and anything but digits', () => {
    expect(isValidBsn('111222309')).toBe(false);
    expect(isValidBsn('11122230')).toBe(false);
    expect(isValidBsn('1112223080')).toBe(false);
    expect(isValidBsn('11122230a')).toBe(false);
    expect(isValidBsn(' 111222308')).toBe(false);
    expect(isValidBsn('')).toBe(false);
  });
});

describe('security levels', () => {
  it('are the integers 1 to 5', () => {
    expect([MIN_SECURITY_LEVEL, MAX_SECURITY_LEVEL]).toEqual([1, 5]);
    expect([0, 1, 3, 5, 6, 2.5, Number.NaN].map(isSecurityLevel)).toEqual([false, true, true, true, false, false, false]);
  });
});
