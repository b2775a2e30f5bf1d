/**
 * Keeps the `capacity` idlest keys seen during a scan (a min-heap on idle time), so one pass over millions
 * of keys needs memory for only as many candidates as it may demote.
 */
export class IdlestKeys {
  private readonly keys: string[] = [];
  private readonly idle: number[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.keys.length;
  }

  offer(key: string, idleSeconds: number): void {
    if (this.capacity <= 0) return;
    if (this.keys.length < this.capacity) {
      this.keys.push(key);
      this.idle.push(idleSeconds);
      this.up(this.keys.length - 1);
    } else if (idleSeconds > this.idle[0]) {
      this.keys[0] = key;
      this.idle[0] = idleSeconds;
      this.down(0);
    }
  }

  /** Idlest first; empties the heap. */
  drain(): Array<{ key: string; idle: number }> {
    const out: Array<{ key: string; idle: number }> = [];
    while (this.keys.length > 0) {
      out.push({ key: this.keys[0], idle: this.idle[0] });
      const lastKey = this.keys.pop()!;
      const lastIdle = this.idle.pop()!;
      if (this.keys.length > 0) {
        this.keys[0] = lastKey;
        this.idle[0] = lastIdle;
        this.down(0);
      }
    }
    return out.reverse();
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.idle[parent] <= this.idle[i]) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < n && this.idle[l] < this.idle[least]) least = l;
      if (r < n && this.idle[r] < this.idle[least]) least = r;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.idle[a], this.idle[b]] = [this.idle[b], this.idle[a]];
  }
}
