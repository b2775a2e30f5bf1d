import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { LeaseRepository } from '@catalog/repositories/lease.repository';
import { OutboxRepository } from '@catalog/repositories/outbox.repository';
import { CategoryMembershipRepository } from '@catalog/categories/repositories/category-membership.repository';
import { CategoryProductsCacheRepository } from '@catalog/categories/repositories/category-products-cache.repository';
import { ProductCacheRepository } from '@catalog/repositories/product-cache.repository';
import { ProductRepository } from '@catalog/repositories/product.repository';
import { SerialPass } from './serial-pass';

const LEASE = 'outbox-relay';
/** Below REDIS_COMMAND_TIMEOUT_MS, so a WAIT that runs out is an answer (0 replicas), not a client timeout. */
const REPLICATION_WAIT_MS = 500;

/**
 * Every node runs the relay; a Redis lease lets one apply at a time. It applies outbox rows older than
 * RELAY_GRACE_MS (the request that wrote them normally applied them already: re-applying is a no-op
 * thanks to the version guard) and deletes them. On start-up it drains the whole outbox at once.
 *
 * Staleness bound after a crash between commit and Redis update, while any node runs:
 * RELAY_GRACE_MS + RELAY_INTERVAL_MS + RELAY_LEASE_MS (lease of a dead holder expiring) = 8 s by default.
 * A row is deleted only once the Redis replica confirmed the apply (WAIT), so after a Redis failover the
 * same bound counts from the moment the new primary takes writes.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly passes = new SerialPass(
    () => this.runOnce(),
    (e) => this.log.warn(`relay pass failed: ${e.message}`),
  );
  private holding = false;
  private readonly log;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly products: ProductRepository,
    private readonly cache: ProductCacheRepository,
    private readonly leases: LeaseRepository,
    private readonly memberships: CategoryMembershipRepository,
    private readonly categorySets: CategoryProductsCacheRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    logger: AppLogger,
  ) {
    this.log = logger.channel('relay');
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.RELAY_ENABLED) return;
    try {
      const n = await this.runOnce(0);
      this.log.info('start-up outbox check done', { applied: n });
    } catch (e) {
      this.log.warn(`start-up outbox check failed, the periodic relay retries: ${(e as Error).message}`);
    }
    this.timer = setInterval(() => void this.passes.tick(), this.config.RELAY_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.passes.idle();
    await this.leases.release(LEASE, this.config.NODE_NAME).catch(() => undefined);
  }

  /** One pass: returns the number of outbox rows applied, or 0 when another node holds the lease. */
  async runOnce(graceMs = this.config.RELAY_GRACE_MS): Promise<number> {
    const holding = await this.leases.acquire(LEASE, this.config.NODE_NAME, this.config.RELAY_LEASE_MS);
    if (holding !== this.holding) {
      this.holding = holding;
      this.log.info(
        holding ? 'relay lease taken: this node applies the outbox' : 'relay lease held by another node',
      );
    }
    if (!holding) return 0;
    let total = 0;
    for (;;) {
      const entries = await this.outbox.pending(graceMs, this.config.RELAY_BATCH);
      if (entries.length === 0) break;
      const ids = [...new Set(entries.map((e) => e.recordId))];
      const states = await this.products.findStates(ids);
      const pairs = await this.memberships.findByProducts(ids);
      // Whatever this changes in Redis is also published for the edge purgers (same script).
      const { changed, invalidation } = await this.cache
        .apply(states, {
          tombstoneTtl: this.config.TOMBSTONE_TTL_SECONDS,
          skuTtl: this.config.CACHE_TTL_SECONDS,
          streamMaxLen: this.config.PURGE_STREAM_MAXLEN,
          node: this.config.NODE_NAME,
          source: 'relay',
        })
        .then(async (r) => {
          await this.categorySets.apply(pairs);
          return r;
        })
        .catch((e: unknown) => {
          this.metrics.redisErrors.inc({ op: 'relay', kind: redisErrorKind(e) });
          throw e;
        });
      // Rows go only once the Redis replica has what was applied: a failover right now must not lose it.
      if (!(await this.cache.replicated(REPLICATION_WAIT_MS))) {
        this.log.warn('redis replica has not confirmed the applied rows; keeping them for the next pass', {
          rows: entries.length,
        });
        break;
      }
      await this.outbox.remove(entries.map((e) => e.id));
      total += entries.length;
      this.metrics.outboxApplied.inc({ by: 'relay' }, entries.length);
      if (changed > 0)
        this.log.warn('relay repaired redis keys a writer had not updated', {
          changed,
          rows: entries.length,
          invalidation,
        });
      if (entries.length < this.config.RELAY_BATCH) break;
      await this.leases.acquire(LEASE, this.config.NODE_NAME, this.config.RELAY_LEASE_MS);
    }
    if (total > 0) this.log.debug('relay pass applied outbox rows', { rows: total });
    return total;
  }
}
