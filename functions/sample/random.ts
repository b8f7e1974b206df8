import { createHash } from 'node:crypto';

/** A small seeded PRNG (mulberry32): the sample feed must be the same for the same seed and hour. */
export class Random {
  private state: number;

  constructor(...seedParts: (string | number)[]) {
    this.state = createHash('sha256').update(seedParts.join('|')).digest().readUInt32LE(0);
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  weighted<T>(items: readonly { value: T; weight: number }[], total?: number): T {
    const sum = total ?? items.reduce((s, i) => s + i.weight, 0);
    let r = this.next() * sum;
    for (const item of items) {
      r -= item.weight;
      if (r < 0) return item.value;
    }
    return (items[items.length - 1] as { value: T }).value;
  }

  uuid(): string {
    const h = (n: number) => Array.from({ length: n }, () => this.int(16).toString(16)).join('');
    return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[this.int(4)]}${h(3)}-${h(12)}`;
  }

  token(
    length: number,
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  ): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}
