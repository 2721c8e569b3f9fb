/**
 * Entities owned by indicatiestelling that plaatsing extends with placements: here they are only
 * their key, and the gateway joins the rest.
 */
export interface PatientReference {
  id: string;
}

export interface TrajectoryReference {
  id: string;
}
