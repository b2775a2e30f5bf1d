import { Injectable } from '@nestjs/common';
import { DatabaseHealth } from '@app/database';
import { ProbeResult, RedisHealth } from '@app/redis';
import { EdgePurgerService } from '@catalog/invalidation/services/edge-purger.service';
import { LifecycleService } from './lifecycle.service';
import { BreakerState, StoreBreakers } from './store-breaker';

export interface StoreCheck extends ProbeResult {
  breaker: BreakerState;
}

export type Readiness =
  | { ready: true; reads: 'redis' | 'mysql'; checks: { redis: StoreCheck; mysqlReader: StoreCheck } }
  | { ready: false; reason: string; checks: Record<string, unknown> };

/**
 * "Send me traffic" means "I can answer reads" (docs/operations.md, "Readiness"): from Redis, or from the
 * MySQL readers when Redis is not there (the cold tier). So a node is ready while either store answers a
 * probe on readiness' own connections; it is not ready while draining, while its edge purges lag, or when
 * neither store answers. What is not checked, on purpose: the MySQL writer (reads do not need it; writes fail
 * on their own with a 503), the breakers (they open when the work is slow, and a busy node must not leave
 * rotation only because it is busy: they are reported) and load (shedding answers that, per request).
 */
@Injectable()
export class ReadinessService {
  private inflight: Promise<Readiness> | null = null;

  constructor(
    private readonly redis: RedisHealth,
    private readonly mysql: DatabaseHealth,
    private readonly breakers: StoreBreakers,
    private readonly lifecycle: LifecycleService,
    private readonly purger: EdgePurgerService,
  ) {}

  /** Checks that arrive together (HAProxy, Varnish probes) share one round of probes. */
  check(): Promise<Readiness> {
    this.inflight ??= this.run().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async run(): Promise<Readiness> {
    if (this.lifecycle.draining) return { ready: false, reason: 'draining', checks: { process: 'draining' } };
    // This node's Varnish may still hold versions that writes replaced: stay out of rotation until purged.
    if (!this.purger.ready())
      return {
        ready: false,
        reason: 'edge purges behind',
        checks: { edge: this.purger.state(), edgeLagMs: this.purger.lagMs() },
      };
    const [redis, mysql] = await Promise.all([this.redis.probe(), this.mysql.probe()]);
    const checks = {
      redis: { ...redis, breaker: this.breakers.redis.state },
      mysqlReader: { ...mysql, breaker: this.breakers.mysql.state },
    };
    if (redis.status === 'up') return { ready: true, reads: 'redis', checks };
    if (mysql.status === 'up') return { ready: true, reads: 'mysql', checks };
    return { ready: false, reason: 'no store answers reads', checks };
  }
}
