/** Beveiligingsniveau: 1 (lowest, e.g. ambulatory) to 5 (extra secured). */
export const MIN_SECURITY_LEVEL = 1;
export const MAX_SECURITY_LEVEL = 5;

export function isSecurityLevel(level: number): boolean {
  return Number.isInteger(level) && level >= MIN_SECURITY_LEVEL && level <= MAX_SECURITY_LEVEL;
}
