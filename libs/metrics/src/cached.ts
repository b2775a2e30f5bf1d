/**
 * A value that is expensive to read (Redis INFO, replication state, an outbox query): every caller within
 * `ttlMs` of the last read gets that read, and concurrent callers share one read in flight. Scrapes from
 * several Prometheus servers therefore cost the stores one read per `ttlMs`.
 */
export class Cached<T> {
  private value?: { at: number; data: T };
  private inflight?: Promise<T>;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.value && this.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.data);
    this.inflight ??= this.read()
      .then((data) => {
        this.value = { at: this.now(), data };
        return data;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
