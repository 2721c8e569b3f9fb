/** Input rules shared by the quality and handover modules; messages never echo what was typed. */
import { badInput } from '@ketengraph/service-kit';

export function assertNotBlank(value: string, field: string, maxLength = 500): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(`${field} must not be empty.`, field);
  if (trimmed.length > maxLength) throw badInput(`${field} must be at most ${maxLength} characters.`, field);
  return trimmed;
}

/** Ids of entities other subgraphs own cannot be checked here; they must at least look like ids. */
export function assertId(value: string, field: string): string {
  return assertNotBlank(value, field, 100);
}

/** Midnight UTC of the given instant's calendar day: how Date scalars are stored. */
export function startOfUtcDay(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
}
