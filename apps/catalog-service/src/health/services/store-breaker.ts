import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import CircuitBreaker from 'opossum';
import { Counter, Gauge } from 'prom-client';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';

export type Store = 'redis' | 'mysql';
export type BreakerState = 'closed' | 'half_open' | 'open';
/** What happened to a call: ran and succeeded or failed, timed out, or was refused without running. */
type Outcome = 'success' | 'failure' | 'timeout' | 'open' | 'busy';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** opossum's refusals: the breaker is open, or `capacity` calls are already in flight. */
export function isBreakerRefusal(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'EOPENBREAKER' || code === 'ESEMLOCKED';
}

export interface StoreBreakerOptions {
  timeoutMs: number;
  /** Calls in flight at once; further calls are refused at once (0: no limit). */
  capacity?: number;
  /** Errors that prove the store answered (a Redis OOM reply): they do not count against it. */
  answered?: (e: unknown) => boolean;
}

/**
 * opossum in front of one store: a call that takes longer than its timeout is failed (the store is not
 * waited for), and when failures pass BREAKER_ERROR_PERCENT of the calls in the last BREAKER_WINDOW_MS the
 * breaker opens: calls are refused without touching the store for BREAKER_RESET_MS, then one trial call
 * decides whether it closes again. The caller decides what a refusal means (a fallback or a 503).
 */
export class StoreBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;

  constructor(
    readonly store: Store,
    config: AppConfig,
    options: StoreBreakerOptions,
    gauge: Gauge<'store'>,
    calls: Counter<'store' | 'outcome'>,
    logger: AppLogger,
  ) {
    const answered = options.answered ?? (() => false);
    this.breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      name: store,
      timeout: options.timeoutMs || false,
      capacity: options.capacity || undefined,
      resetTimeout: config.BREAKER_RESET_MS,
      errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
      volumeThreshold: config.BREAKER_MIN_CALLS,
      rollingCountTimeout: config.BREAKER_WINDOW_MS,
      rollingCountBuckets: 4,
      // A full house is our own load, not the store failing: refused, but not counted against the store.
      errorFilter: (e: unknown) => (e as { code?: string }).code === 'ESEMLOCKED' || answered(e),
    });
    const count = (outcome: Outcome) => calls.labels(store, outcome);
    const counters = {
      success: count('success'),
      failure: count('failure'),
      timeout: count('timeout'),
      open: count('open'),
      busy: count('busy'),
    };
    const state = gauge.labels(store);
    state.set(0);
    const log = logger.channel(store);
    this.breaker.on('success', () => counters.success.inc());
    // opossum reports a timeout as a timeout and then as a failure; counted once, as a timeout.
    this.breaker.on('failure', (e: Error) => {
      if ((e as { code?: string }).code !== 'ETIMEDOUT') counters.failure.inc();
    });
    this.breaker.on('timeout', () => counters.timeout.inc());
    this.breaker.on('reject', () => counters.open.inc());
    this.breaker.on('semaphoreLocked', () => counters.busy.inc());
    this.breaker.on('open', () => {
      state.set(STATE_VALUE.open);
      log.warn(`${store} breaker open: calls refused for ${config.BREAKER_RESET_MS} ms`, {
        stats: this.summary(),
      });
    });
    this.breaker.on('halfOpen', () => state.set(STATE_VALUE.half_open));
    this.breaker.on('close', () => {
      state.set(STATE_VALUE.closed);
      log.info(`${store} breaker closed`);
    });
  }

  fire<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.fire(fn) as Promise<T>;
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    return this.breaker.halfOpen ? 'half_open' : 'closed';
  }

  /** Only a closed breaker's store is sent optional work (a backfill): not one that is failing, or on trial. */
  get closed(): boolean {
    return this.breaker.closed;
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private summary() {
    const s = this.breaker.stats;
    return { fires: s.fires, failures: s.failures, timeouts: s.timeouts };
  }
}

/** The breakers of this node's stores, with their state exported (catalog_breaker_state). */
@Injectable()
export class StoreBreakers implements OnApplicationShutdown {
  readonly redis: StoreBreaker;
  readonly mysql: StoreBreaker;

  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: Metrics, logger: AppLogger) {
    const gauge = new Gauge({
      name: 'catalog_breaker_state',
      help: 'Circuit breaker in front of a store: 0 closed, 1 half-open (trial call), 2 open (calls refused)',
      labelNames: ['store'] as const,
      registers: [metrics.registry],
    });
    const calls = new Counter({
      name: 'catalog_breaker_calls_total',
      help: 'Calls through a store breaker, by outcome (success, failure, timeout, open: refused while open, busy: refused at capacity)',
      labelNames: ['store', 'outcome'] as const,
      registers: [metrics.registry],
    });
    this.redis = new StoreBreaker(
      'redis',
      config,
      // An error reply (OOM, a script error) means Redis is there and answering.
      {
        timeoutMs: config.REDIS_READ_TIMEOUT_MS,
        answered: (e) => (e as Error | null)?.name === 'ReplyError',
      },
      gauge,
      calls,
      logger,
    );
    this.mysql = new StoreBreaker(
      'mysql',
      config,
      { timeoutMs: config.MYSQL_READ_TIMEOUT_MS, capacity: config.MYSQL_READ_MAX_CONCURRENT },
      gauge,
      calls,
      logger,
    );
  }

  onApplicationShutdown(): void {
    this.redis.shutdown();
    this.mysql.shutdown();
  }
}
