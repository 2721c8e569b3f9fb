/**
 * Burgerservicenummer check. The 11-check ("elfproef"): for digits d1..d9,
 * 9·d1 + 8·d2 + … + 2·d8 − 1·d9 must be divisible by 11.
 */
export function isValidBsn(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(value[i]);
  sum -= Number(value[8]);
  return sum % 11 === 0;
}
