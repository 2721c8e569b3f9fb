/**
 * What a subgraph asks its peers before a change: facts that live elsewhere (does this patient
 * exist, whose trajectory is this, which organisation places here, does the caller's provider
 * have a placement in it). Asked with the request's gateway token on `@inaccessible` query
 * fields the gateway never exposes, batched per request (DataLoader), and never guessed: without
 * an answer the change is refused with DEPENDENCY_UNAVAILABLE.
 */
import type { CareType } from '@ketengraph/domain';
import DataLoader from 'dataloader';
import { domainError } from './errors.js';
import type { AccessPolicy, Principal } from './principal.js';

/** A trajectory as the write rules need it (indicatiestelling's `trajectoryFacts`). */
export interface TrajectoryFacts {
  id: string;
  patientId: string;
  status: 'ACTIVE' | 'CLOSED';
  legalTitle: string;
  probationOrganisation: string | null;
  currentCareType: CareType;
  currentSecurityLevel: number;
  currentPhase: { minSecurityLevel: number; maxSecurityLevel: number; careTypes: CareType[] } | null;
}

/** The caller's provider and one trajectory (plaatsing's `trajectoryRelations`). */
export interface TrajectoryRelation {
  trajectoryId: string;
  /** An admitted placement in the trajectory. */
  treating: boolean;
  /** A placement in the trajectory that is requested, admitted, or ended within the handover period. */
  receiving: boolean;
}

export interface PeerFacts {
  trajectory(id: string): Promise<TrajectoryFacts | null>;
  patientExists(id: string): Promise<boolean>;
  trajectoryRelation(trajectoryId: string): Promise<TrajectoryRelation>;
}

export interface PeerUrls {
  indicatiestelling: string;
  plaatsing: string;
}

const TRAJECTORY_FACTS = `query TrajectoryFacts($ids: [ID!]!) { trajectoryFacts(ids: $ids) { id patientId status legalTitle probationOrganisation currentCareType currentSecurityLevel currentPhase { minSecurityLevel maxSecurityLevel careTypes } } }`;
const EXISTING_PATIENTS = `query ExistingPatients($ids: [ID!]!) { existingPatients(ids: $ids) }`;
const TRAJECTORY_RELATIONS = `query TrajectoryRelations($ids: [ID!]!) { trajectoryRelations(trajectoryIds: $ids) { trajectoryId treating receiving } }`;

async function ask<T>(
  service: string,
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  field: string,
  timeoutMs: number,
): Promise<T> {
  const unavailable = () =>
    domainError('DEPENDENCY_UNAVAILABLE', `The ${service} service did not answer a check this change needs; nothing was changed, try again later.`, {
      service,
    });
  let body: { data?: Record<string, unknown> | null; errors?: unknown[] };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw unavailable();
    body = (await response.json()) as typeof body;
  } catch {
    throw unavailable();
  }
  if (body.errors?.length || !body.data || body.data[field] === undefined) throw unavailable();
  return body.data[field] as T;
}

export function createPeerFacts(urls: PeerUrls, token: () => string, timeoutMs = 3000): PeerFacts {
  const trajectories = new DataLoader<string, TrajectoryFacts | null>(async (ids) => {
    const rows = await ask<TrajectoryFacts[]>('indicatiestelling', urls.indicatiestelling, token(), TRAJECTORY_FACTS, { ids }, 'trajectoryFacts', timeoutMs);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const patients = new DataLoader<string, boolean>(async (ids) => {
    const known = new Set(await ask<string[]>('indicatiestelling', urls.indicatiestelling, token(), EXISTING_PATIENTS, { ids }, 'existingPatients', timeoutMs));
    return ids.map((id) => known.has(id));
  });
  const relations = new DataLoader<string, TrajectoryRelation>(async (ids) => {
    const rows = await ask<TrajectoryRelation[]>('plaatsing', urls.plaatsing, token(), TRAJECTORY_RELATIONS, { ids }, 'trajectoryRelations', timeoutMs);
    const byId = new Map(rows.map((row) => [row.trajectoryId, row]));
    return ids.map((id) => byId.get(id) ?? { trajectoryId: id, treating: false, receiving: false });
  });
  return {
    trajectory: (id) => trajectories.load(id),
    patientExists: (id) => patients.load(id),
    trajectoryRelation: (id) => relations.load(id),
  };
}

/**
 * Whether the caller is the placing organisation of a placement with this care type in this
 * trajectory (the policy's `placingOrganisations`): DJI for clinical care, the assigned probation
 * organisation for outpatient and residential care, PMO for transfers from prison.
 */
export function isPlacingOrganisation(
  policy: AccessPolicy,
  principal: Principal,
  careType: string,
  trajectory: Pick<TrajectoryFacts, 'legalTitle' | 'probationOrganisation' | 'status'>,
): boolean {
  const organisation = principal.organisationId.toUpperCase();
  return policy.placingOrganisations.some((entry) => {
    if (entry.role !== principal.role || !entry.careTypes.includes(careType)) return false;
    if (entry.legalTitles && !entry.legalTitles.includes(trajectory.legalTitle)) return false;
    if (entry.organisation === 'assigned') return trajectory.status === 'ACTIVE' && trajectory.probationOrganisation?.toUpperCase() === organisation;
    if (entry.organisation) return entry.organisation.toUpperCase() === organisation;
    return true;
  });
}

/** Whether deciding "placing" for this role needs the trajectory's facts (legal title, probation organisation) at all. */
export function placingNeedsTrajectory(policy: AccessPolicy, role: string): boolean {
  return policy.placingOrganisations.some((entry) => entry.role === role && (entry.legalTitles !== undefined || entry.organisation !== undefined));
}
