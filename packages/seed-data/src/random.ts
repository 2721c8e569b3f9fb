import { createHash } from 'node:crypto';

/**
 * Deterministic randomness for the synthetic chain. Everything the seed produces derives from
 * (seed, stream) pairs, so one patient can be regenerated without generating the others: each
 * subgraph seeds its own slice of the same chain and the slices agree on every id.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: string | number = 0) {
    // 128 bits of state from SHA-256 of (seed, stream): tens of thousands of streams (one per
    // patient) must not collide, which a 32-bit state would at this scale.
    const digest = createHash('sha256').update(`${seed}:${stream}`).digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12);
  }

  /** sfc32: small, fast and good enough for synthetic data (not for cryptography). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
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
