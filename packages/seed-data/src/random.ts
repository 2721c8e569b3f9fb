/**
 * Deterministic randomness for the synthetic chain. Everything the seed produces derives from
 * (seed, stream) pairs, so one patient can be regenerated without generating the others: each
 * subgraph seeds its own slice of the same chain and the slices agree on every id.
 */
export class Random {
  private state: number;

  constructor(seed: number, stream: string | number = 0) {
    // FNV-1a over the stream label mixed with the seed gives independent sub-streams.
    let hash = 0x811c9dc5 ^ seed;
    for (const char of String(stream)) {
      hash ^= char.charCodeAt(0);
      hash = Math.imul(hash, 0x01000193);
    }
    this.state = hash >>> 0;
  }

  /** mulberry32: tiny, fast and good enough for synthetic data (not for cryptography). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** A subset of `items` with each item kept with the given probability, order preserved. */
  subset<T>(items: readonly T[], probability: number): T[] {
    return items.filter(() => this.chance(probability));
  }

  /** A UUID-shaped id (version 4 layout) drawn from this stream. */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  date(from: Date, to: Date): Date {
    const day = 86_400_000;
    const days = Math.floor((to.getTime() - from.getTime()) / day);
    return new Date(from.getTime() + this.int(0, Math.max(0, days)) * day);
  }
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}
