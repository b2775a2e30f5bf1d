import type { AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { EdgeCacheRepository } from '@catalog/invalidation/repositories/edge-cache.repository';
import {
  InvalidationEntry,
  InvalidationRepository,
} from '@catalog/invalidation/repositories/invalidation.repository';

const BATCH = 500;
const BLOCK_MS = 1_000;
const MAX_BACKOFF_MS = 1_000;

/** Orders stream ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

export const timeOfStreamId = (id: string): number => Number(id.split('-')[0]);

export type PurgerState = 'disabled' | 'locating' | 'catching-up' | 'lagging' | 'ok';

/**
 * Keeps this node's Varnish in step with one invalidation stream (each Redis that record types are
 * applied to has its own; EdgePurgerService runs one StreamPurger per stream): reads the entries after its last
 * acknowledged position, purges their tags, and only then advances (and records) the position. While its
 * Varnish does not answer it retries the same entries and the position stays put, so nothing is skipped.
 *
 * Readiness depends on it (HealthController): a node whose Varnish may still hold versions older than the
 * stream says stays out of HAProxy's rotation until its purger has caught up. A node without a position (new,
 * or so far behind that the stream was trimmed past it) purges everything and starts at the end.
 */
export class StreamPurger {
  private position: string | null = null;
  /** The stream's end when this process located itself: reaching it means caught up. */
  private target = '0-0';
  private caughtUp = false;
  /** Entries read and not yet purged (kept across retries), and the time of the oldest. */
  private pending: InvalidationEntry[] | null = null;
  private pendingSince: number | null = null;
  private stopped = false;
  private loop?: Promise<void>;
  private readonly repeats = new Set<NodeJS.Timeout>();
  private waiters: Array<{ id: string; done: (purged: boolean) => void }> = [];
  private readonly log;

  constructor(
    private readonly stream: InvalidationRepository,
    private readonly edge: EdgeCacheRepository,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    logger: AppLogger,
    /** The stream's name in logs; only the product stream's purger sets the position and lag gauges. */
    readonly name = 'product',
  ) {
    this.log = logger.channel('invalidation');
    this.gauges = name === 'product';
  }

  private readonly gauges: boolean;

  get enabled(): boolean {
    return this.edge.enabled;
  }

  start(): void {
    if (!this.enabled) return;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream.close();
    for (const t of this.repeats) clearTimeout(t);
    await this.loop;
    for (const w of this.waiters) w.done(false);
    this.waiters = [];
  }

  state(): PurgerState {
    if (!this.enabled) return 'disabled';
    if (this.position === null) return 'locating';
    if (!this.caughtUp) return 'catching-up';
    return this.lagMs() > this.config.PURGE_READY_MAX_LAG_MS ? 'lagging' : 'ok';
  }

  ready(): boolean {
    const s = this.state();
    return s === 'ok' || s === 'disabled';
  }

  lagMs(): number {
    return this.pendingSince === null ? 0 : Math.max(0, Date.now() - this.pendingSince);
  }

  /** Resolves true once this node has purged the stream entry `id`, false after timeoutMs. */
  waitFor(id: string, timeoutMs: number): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(true);
    if (this.position !== null && compareStreamIds(this.position, id) >= 0) return Promise.resolve(true);
    if (timeoutMs <= 0 || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        id,
        done: (purged: boolean) => {
          clearTimeout(timer);
          resolve(purged);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      try {
        await this.step(BLOCK_MS);
        backoff = 100;
      } catch (e) {
        if (this.stopped) break;
        this.gauge(this.metrics.edgePurgeLag, this.lagMs() / 1000);
        this.log.warn(`purger: ${(e as Error).message}; retrying in ${backoff} ms`, {
          position: this.position,
          lagMs: this.lagMs(),
        });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** One turn: locate if needed, read what follows the position, purge it, advance. Throws to be retried. */
  async step(blockMs: number): Promise<void> {
    if (this.position === null) await this.locate();
    const entries = this.pending ?? (await this.stream.read(this.position!, BATCH, blockMs));
    if (entries.length === 0) {
      this.caughtUp = true;
      this.gauge(this.metrics.edgePurgeLag, 0);
      return;
    }
    this.pending = entries;
    this.pendingSince ??= timeOfStreamId(entries[0].id);
    // Each record type's tag of every record written (product:{id}), and the unique values' tags
    // (sku:{sku}) for answers by that value that said "missing".
    const tags = [...new Set(entries.flatMap((e) => e.tags))];
    try {
      await this.edge.purge(tags);
    } catch (e) {
      this.metrics.edgePurges.inc({ kind: 'write', outcome: 'failed' });
      throw e;
    }
    const last = entries[entries.length - 1].id;
    const now = Date.now();
    this.position = last;
    this.pending = null;
    this.pendingSince = null;
    if (compareStreamIds(last, this.target) >= 0) this.caughtUp = true;
    this.release(last);

    this.metrics.edgePurges.inc({ kind: 'write', outcome: 'ok' });
    for (const e of entries)
      this.metrics.edgePurgeDelay.observe(Math.max(0, now - timeOfStreamId(e.id)) / 1000);
    this.gauge(this.metrics.edgePurgePosition, timeOfStreamId(last) / 1000);
    this.gauge(this.metrics.edgePurgeAppliedAt, now / 1000);
    this.gauge(this.metrics.edgePurgeLag, 0);
    if (this.log.isEnabled('debug'))
      this.log.debug('purged', { position: last, entries: entries.length, tags: tags.length });
    this.scheduleRepeat(tags);
    // The purge is done; if recording fails, the next turn or the next start re-purges (harmless).
    await this.stream.savePosition(this.config.NODE_NAME, last, now);
  }

  /** Where to resume: the recorded position, or (history lost) the stream's end after purging everything. */
  private async locate(): Promise<void> {
    const node = this.config.NODE_NAME;
    const [stored, tail, trimmed] = await Promise.all([
      this.stream.position(node),
      this.stream.tail(),
      this.stream.lastTrimmed(),
    ]);
    const lost =
      stored === null
        ? 'no recorded position'
        : compareStreamIds(trimmed, stored) > 0
          ? 'entries after its position were trimmed from the stream'
          : compareStreamIds(stored, tail) > 0
            ? 'the stream ends before its position (Redis lost data)'
            : null;
    if (lost) {
      try {
        await this.edge.purgeAll();
      } catch (e) {
        this.metrics.edgePurges.inc({ kind: 'all', outcome: 'failed' });
        throw e;
      }
      this.metrics.edgePurges.inc({ kind: 'all', outcome: 'ok' });
      this.log.warn(`purged everything in this node's Varnish: ${lost}`, { position: tail });
      await this.stream.savePosition(node, tail, Date.now());
    }
    this.target = tail;
    this.position = lost ? tail : stored!;
    this.caughtUp = compareStreamIds(this.position, tail) >= 0;
    this.log.info('purger located', {
      stream: this.name,
      position: this.position,
      streamEnd: tail,
      caughtUp: this.caughtUp,
    });
  }

  private gauge(g: { set(v: number): void }, value: number): void {
    if (this.gauges) g.set(value);
  }

  private release(position: string): void {
    if (this.waiters.length === 0) return;
    const keep = [];
    for (const w of this.waiters) {
      if (compareStreamIds(w.id, position) <= 0) w.done(true);
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** A fetch that was in flight during the purge may store the old version after it; this drops it. */
  private scheduleRepeat(tags: string[]): void {
    if (this.config.PURGE_REPEAT_MS <= 0 || this.stopped) return;
    const timer = setTimeout(() => {
      this.repeats.delete(timer);
      void this.edge.purge(tags).then(
        () => this.metrics.edgePurges.inc({ kind: 'repeat', outcome: 'ok' }),
        (e: unknown) => {
          this.metrics.edgePurges.inc({ kind: 'repeat', outcome: 'failed' });
          this.log.warn(`repeat purge failed: ${(e as Error).message}`, { tags: tags.length });
        },
      );
    }, this.config.PURGE_REPEAT_MS);
    timer.unref();
    this.repeats.add(timer);
  }
}
