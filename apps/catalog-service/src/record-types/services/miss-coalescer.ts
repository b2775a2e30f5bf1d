/**
 * Misses for the same ids arriving together become one load: every id asked for during one turn of the
 * event loop is loaded by a single call (chunked at maxBatch), and an id already being loaded joins the
 * load in flight instead of starting another.
 */
export class MissCoalescer<V, K = number> {
  private readonly inflight = new Map<K, Promise<V | null>>();
  private queued = new Map<K, { resolve: (v: V | null) => void; reject: (e: unknown) => void }>();
  private scheduled = false;

  constructor(
    private readonly loader: (ids: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 1000,
  ) {}

  load(ids: readonly K[]): Promise<Array<V | null>> {
    return Promise.all(ids.map((id) => this.loadOne(id)));
  }

  private loadOne(id: K): Promise<V | null> {
    const existing = this.inflight.get(id);
    if (existing) return existing;
    const promise = new Promise<V | null>((resolve, reject) => this.queued.set(id, { resolve, reject }));
    this.inflight.set(id, promise);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return promise;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queued;
    this.queued = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += this.maxBatch) {
      void this.run(ids.slice(i, i + this.maxBatch), batch);
    }
  }

  private async run(
    ids: K[],
    waiters: Map<K, { resolve: (v: V | null) => void; reject: (e: unknown) => void }>,
  ): Promise<void> {
    try {
      const found = await this.loader(ids);
      for (const id of ids) waiters.get(id)!.resolve(found.get(id) ?? null);
    } catch (e) {
      for (const id of ids) waiters.get(id)!.reject(e);
    } finally {
      for (const id of ids) this.inflight.delete(id);
    }
  }
}
