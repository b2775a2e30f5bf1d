import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { LeaseRepository } from '@catalog/tiering/repositories/lease.repository';
import { SerialPass } from '@catalog/common/serial-pass';
import { RecordTypeRegistry } from '../record-type.registry';
import { OutboxEntry, OutboxRepository } from '../repositories/outbox.repository';
import { VersionedWriter } from '../repositories/versioned-writer';
import { RecordWrites } from './record-writes.service';

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
    private readonly versioned: VersionedWriter,
    private readonly registry: RecordTypeRegistry,
    private readonly writes: RecordWrites,
    private readonly leases: LeaseRepository,
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
      const done = await this.applyEntries(entries);
      if (done.length === 0) break;
      await this.outbox.remove(done);
      total += done.length;
      this.metrics.outboxApplied.inc({ by: 'relay' }, done.length);
      if (entries.length < this.config.RELAY_BATCH || done.length < entries.length) break;
      await this.leases.acquire(LEASE, this.config.NODE_NAME, this.config.RELAY_LEASE_MS);
    }
    if (total > 0) this.log.debug('relay pass applied outbox rows', { rows: total });
    return total;
  }

  /**
   * Applies a batch of rows, each record type's through its own cache repository (whatever this changes in
   * Redis is also published for the edge purgers, same script). Returns the ids of the rows that may go:
   * only once that type's Redis replica has what was applied, so a failover right now cannot lose it.
   */
  private async applyEntries(entries: readonly OutboxEntry[]): Promise<number[]> {
    const byType = new Map<string, OutboxEntry[]>();
    for (const e of entries) byType.set(e.recordType, [...(byType.get(e.recordType) ?? []), e]);
    const done: number[] = [];
    for (const [name, rows] of byType) {
      const cache = this.registry.cacheOf(name);
      if (!cache) {
        this.log.warn('outbox rows of a record type this node does not serve; kept', {
          name,
          rows: rows.length,
        });
        continue;
      }
      const states = await this.versioned.findStates(cache.type, [...new Set(rows.map((e) => e.recordId))]);
      const { changed, invalidation } = await cache
        .apply(states, this.writes.applyOptions(cache.type, 'relay'))
        .then(async (applied) => {
          await this.registry.applyFollowers(name, states);
          return applied;
        })
        .catch((e: unknown) => {
          this.metrics.redisErrors.inc({ op: 'relay', kind: redisErrorKind(e) });
          throw e;
        });
      if (!(await cache.replicated(REPLICATION_WAIT_MS))) {
        this.log.warn('redis replica has not confirmed the applied rows; keeping them for the next pass', {
          type: name,
          rows: rows.length,
        });
        continue;
      }
      done.push(...rows.map((e) => e.id));
      if (changed > 0)
        this.log.warn('relay repaired redis keys a writer had not updated', {
          type: name,
          changed,
          rows: rows.length,
          invalidation,
        });
    }
    return done;
  }
}
