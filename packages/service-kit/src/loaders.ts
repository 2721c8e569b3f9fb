import DataLoader from 'dataloader';

/**
 * A DataLoader that loads rows by their id in one statement per tick; missing ids resolve to null
 * (a reference to something this subgraph does not hold is not an error here).
 */
export function byIdLoader<T extends { id: string }>(fetch: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** A DataLoader that loads all children of many parents in one statement, grouped by parent. */
export function groupLoader<T>(fetch: (parentIds: readonly string[]) => Promise<T[]>, parentOf: (row: T) => string): DataLoader<string, T[]> {
  return new DataLoader(async (parentIds) => {
    const rows = await fetch(parentIds);
    const groups = new Map<string, T[]>();
    for (const row of rows) {
      const parent = parentOf(row);
      const group = groups.get(parent);
      if (group) group.push(row);
      else groups.set(parent, [row]);
    }
    return parentIds.map((id) => groups.get(id) ?? []);
  });
}
