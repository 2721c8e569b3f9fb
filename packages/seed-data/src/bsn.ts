/** Synthetic Burgerservicenummers: valid under the 11-check (see @ketengraph/domain's isValidBsn). */

/**
 * A valid BSN for synthetic patient number `index`, unique per index. Synthetic BSNs start with
 * 99, a range the issuing authority does not assign to people; index i owns the eleven 8-digit
 * prefixes 99000000 + 11·i … + 10, of which at least one yields a valid check digit.
 */
export function syntheticBsn(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 90_000) {
    throw new RangeError('synthetic BSNs exist for patient numbers 0..90000');
  }
  for (let offset = 0; offset < 11; offset++) {
    const prefix = String(99_000_000 + 11 * index + offset);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(prefix[i]);
    const check = sum % 11;
    if (check < 10) return prefix + String(check);
  }
  throw new Error('unreachable: a run of eleven prefixes always contains a valid one');
}
