import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Cached, Metrics } from '@app/metrics';
import { LeaseRepository } from '@catalog/tiering/repositories/lease.repository';
import { RedisMonitorRepository } from '@catalog/tiering/repositories/redis-monitor.repository';
import { TieringRepository } from '@catalog/tiering/repositories/tiering.repository';
import { IdlestKeys } from './idlest-keys';
import { Budget, budgetOf, estimatePersistent, jitteredTtl, PersistentEstimate } from './tiering-budget';
import { SerialPass } from '@catalog/common/serial-pass';

const LEASE = 'tiering';
/** Keys per demotion script: each script holds Redis ~0.2 ms (the check and EXPIRE must be atomic). */
const DEMOTE_CHUNK = 100;
/** The estimate samples ~TIERING_SAMPLE_KEYS keys: scrapes reuse it this long. */
const STATUS_CACHE_MS = 30_000;

export interface TieringStatus {
  keys: number;
  persistentKeys: number;
  volatileKeys: number;
  /** expires / keys (1 when empty): near 0 means the next burst of writes fails with OOM. */
  expireRatio: number;
  usedMemory: number;
  maxmemory: number;
  policy: string;
  evictedKeys: number;
  budget: Budget;
  persistent: PersistentEstimate;
  /** The same figure by the other method (share of used_memory_dataset), for comparison. */
  persistentBytesByDatasetShare: number;
  lastRun: TieringResult | null;
}

export type TieringOutcome = 'within_budget' | 'demoted' | 'short' | 'no_budget';

export interface TieringResult {
  outcome: TieringOutcome;
  node: string;
  startedAt: string;
  durationMs: number;
  budgetBytes: number;
  persistentBytesBefore: number;
  /** before - MEMORY USAGE of the demoted keys. */
  persistentBytesAfter: number;
  scannedKeys: number;
  candidates: number;
  demotedKeys: number;
  demotedBytes: number;
}

export type RunResult = TieringResult | { outcome: 'lease_held' | 'recent' };

/**
 * Keeps the persistent keys (written or read recently, never evicted under volatile-lru) inside their memory
 * budget: when the estimate is over it, one SCAN pass collects the idlest persistent keys (OBJECT IDLETIME,
 * idle longer than TIERING_IDLE_SECONDS) and gives the idlest a jittered TTL until the estimate is back at
 * TIERING_TARGET_FILL of the budget. A later write makes a key persistent again. One node at a time (lease).
 */
@Injectable()
export class TieringService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly passes = new SerialPass(
    () => this.runOnce(),
    (e) => this.log.error(`tiering pass failed: ${e.message}`),
  );
  private stopping = false;
  private readonly log;
  private readonly cachedStatus: Cached<TieringStatus>;

  constructor(
    private readonly tiering: TieringRepository,
    private readonly redis: RedisMonitorRepository,
    private readonly leases: LeaseRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    logger: AppLogger,
  ) {
    this.log = logger.channel('tiering');
    this.cachedStatus = new Cached(() => this.status(), STATUS_CACHE_MS);
  }

  onApplicationBootstrap(): void {
    if (!this.config.TIERING_ENABLED) return;
    this.timer = setInterval(() => void this.passes.tick(), this.config.TIERING_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // A pass over millions of keys must not hold the shutdown: it stops at its next page.
    this.stopping = true;
    await this.passes.idle();
  }

  /** For metrics: at most one sampling per STATUS_CACHE_MS. */
  recentStatus(): Promise<TieringStatus> {
    return this.cachedStatus.get();
  }

  async status(): Promise<TieringStatus> {
    const [stats, samples, lastRun] = await Promise.all([
      this.redis.stats('primary'),
      this.tiering.sample(this.config.TIERING_SAMPLE_KEYS),
      this.tiering.lastRun(),
    ]);
    const persistentKeys = Math.max(0, stats.keys - stats.expires);
    return {
      keys: stats.keys,
      persistentKeys,
      volatileKeys: stats.expires,
      expireRatio: stats.keys > 0 ? stats.expires / stats.keys : 1,
      usedMemory: stats.usedMemory,
      maxmemory: stats.maxmemory,
      policy: stats.policy,
      evictedKeys: stats.evictedKeys,
      budget: budgetOf(
        this.config.TIERING_PERSISTENT_BUDGET_BYTES,
        this.config.TIERING_PERSISTENT_BUDGET_RATIO,
        stats.maxmemory,
      ),
      persistent: estimatePersistent(persistentKeys, stats.keys, stats.usedMemoryDataset, samples),
      persistentBytesByDatasetShare:
        stats.keys > 0 ? Math.round((stats.usedMemoryDataset * persistentKeys) / stats.keys) : 0,
      lastRun: parseLastRun(lastRun),
    };
  }

  /**
   * One pass, if this caller gets the lease. `force` (the CLI) runs even if another node ran a pass less
   * than an interval ago.
   */
  async runOnce(options: { force?: boolean; owner?: string } = {}): Promise<RunResult> {
    const owner = options.owner ?? this.config.NODE_NAME;
    const leaseMs = this.config.TIERING_LEASE_MS;
    if (!(await this.leases.acquire(LEASE, owner, leaseMs))) {
      this.log.debug('tiering pass skipped: another node holds the lease');
      return { outcome: 'lease_held' };
    }
    const started = Date.now();
    let stopTimer: (() => number) | undefined;
    try {
      if (!options.force) {
        const last = parseLastRun(await this.tiering.lastRun());
        if (last && started - Date.parse(last.startedAt) < this.config.TIERING_INTERVAL_MS * 0.9) {
          this.log.debug('tiering pass skipped: a node ran one less than an interval ago', {
            lastBy: last.node,
          });
          return { outcome: 'recent' };
        }
      }
      stopTimer = this.metrics.tieringDuration.startTimer();
      const result = await this.pass(owner, started);
      this.metrics.tieringRuns.inc({ outcome: result.outcome });
      this.report(result);
      await this.tiering.setLastRun(JSON.stringify(result));
      return result;
    } catch (e) {
      this.metrics.tieringRuns.inc({ outcome: 'failed' });
      throw e;
    } finally {
      stopTimer?.();
      await this.leases.release(LEASE, owner).catch(() => undefined);
    }
  }

  private async pass(owner: string, started: number): Promise<TieringResult> {
    const c = this.config;
    const status = await this.status();
    const result: TieringResult = {
      outcome: 'within_budget',
      node: owner,
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
      budgetBytes: status.budget.bytes,
      persistentBytesBefore: status.persistent.bytes,
      persistentBytesAfter: status.persistent.bytes,
      scannedKeys: 0,
      candidates: 0,
      demotedKeys: 0,
      demotedBytes: 0,
    };
    const done = (outcome: TieringOutcome) => {
      result.outcome = outcome;
      result.durationMs = Date.now() - started;
      return result;
    };
    if (status.budget.source === 'none') return done('no_budget');
    if (status.persistent.bytes <= status.budget.bytes) return done('within_budget');

    const excess = status.persistent.bytes - status.budget.bytes * c.TIERING_TARGET_FILL;
    const avg = Math.max(1, status.persistent.avgKeyBytes);
    // A margin over the estimate: some candidates will have turned hot by the time they are demoted.
    const wanted = Math.min(c.TIERING_MAX_DEMOTE, Math.ceil((excess / avg) * 1.25) + 100);
    const idlest = new IdlestKeys(wanted);

    let cursor = '0';
    let renewedAt = Date.now();
    do {
      const page = await this.tiering.scanPage(cursor, c.TIERING_SCAN_COUNT);
      cursor = page.cursor;
      result.scannedKeys += page.keys.length;
      for (let i = 0; i < page.keys.length; i++) {
        if (page.idle[i] >= c.TIERING_IDLE_SECONDS) idlest.offer(page.keys[i], page.idle[i]);
      }
      if (this.stopping) throw new Error('tiering pass stopped: the node is shutting down');
      if (Date.now() - renewedAt > c.TIERING_LEASE_MS / 3) {
        if (!(await this.leases.acquire(LEASE, owner, c.TIERING_LEASE_MS)))
          throw new Error('tiering lease lost during the scan (the pass took longer than TIERING_LEASE_MS)');
        renewedAt = Date.now();
      }
    } while (cursor !== '0');
    this.metrics.tieringScanned.inc(result.scannedKeys);
    result.candidates = idlest.size;

    const candidates = idlest.drain();
    let next = 0;
    while (result.demotedBytes < excess && next < candidates.length) {
      const need = Math.ceil((excess - result.demotedBytes) / avg);
      const chunk = candidates.slice(next, next + Math.min(DEMOTE_CHUNK, Math.max(1, need)));
      next += chunk.length;
      const { demoted, bytes } = await this.tiering.demote(
        chunk.map(({ key }) => ({
          key,
          ttl: jitteredTtl(c.TIERING_DEMOTE_TTL_SECONDS, c.CACHE_TTL_JITTER),
        })),
        c.TIERING_IDLE_SECONDS,
      );
      result.demotedKeys += demoted;
      result.demotedBytes += bytes;
    }
    this.metrics.tieringDemoted.inc(result.demotedKeys);
    this.metrics.tieringDemotedBytes.inc(result.demotedBytes);
    result.persistentBytesAfter = status.persistent.bytes - result.demotedBytes;
    return done(result.persistentBytesAfter <= status.budget.bytes ? 'demoted' : 'short');
  }

  private report(r: TieringResult): void {
    const meta = { ...r };
    switch (r.outcome) {
      case 'within_budget':
        this.log.info('tiering pass: persistent keys within budget', meta);
        break;
      case 'demoted':
        this.log.info(`tiering pass: demoted ${r.demotedKeys} idle persistent keys to volatile`, meta);
        break;
      case 'short':
        this.log.warn(
          `tiering pass: still over budget after demoting ${r.demotedKeys} keys: not enough persistent keys idle ` +
            `>= ${this.config.TIERING_IDLE_SECONDS} s (lower TIERING_IDLE_SECONDS, raise the budget or maxmemory)`,
          meta,
        );
        break;
      case 'no_budget':
        this.log.warn(
          'tiering pass: no budget (maxmemory is 0 and TIERING_PERSISTENT_BUDGET_BYTES unset): nothing demoted',
          meta,
        );
        break;
    }
  }
}

function parseLastRun(json: string | null): TieringResult | null {
  if (!json) return null;
  try {
    return JSON.parse(json) as TieringResult;
  } catch {
    return null;
  }
}
