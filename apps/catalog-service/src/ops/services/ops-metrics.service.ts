import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Cached, Metrics } from '@app/metrics';
import { MysqlMonitorRepository } from '@catalog/ops/repositories/mysql-monitor.repository';
import { OutboxRepository } from '@catalog/record-types/repositories/outbox.repository';
import { RedisMonitorRepository } from '@catalog/tiering/repositories/redis-monitor.repository';
import { TieringRepository } from '@catalog/tiering/repositories/tiering.repository';
import { TieringService, TieringStatus } from '@catalog/tiering/services/tiering.service';
import { WriteRoom, writeRoom } from '@catalog/tiering/services/write-room';
import { registerPoolMetrics, registerTieringMetrics } from './ops-gauges';

const PROBE_TIMEOUT_MS = 2_000;
/** The write room samples TIERING_SAMPLE_KEYS keys: scrapes reuse it this long (as the tiering estimate). */
const WRITE_ROOM_CACHE_MS = 30_000;

type Backlog = { rows: number; oldestAgeSeconds: number };

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function orNull<T>(p: () => Promise<T>, what: string): Promise<T | null> {
  try {
    return await withTimeout(p(), PROBE_TIMEOUT_MS, what);
  } catch {
    return null;
  }
}

/**
 * The gauges only the service knows: the volatile keys' memory (sampled), its own MySQL pools, the outbox
 * and the tiering job. Redis INFO, MySQL replication and semi-sync come from the field's exporters
 * (redis_exporter, mysqld_exporter: docs/operations.md). Read in prom-client collect() callbacks, never on
 * the request path, through a cache of METRICS_CACHE_MS so that scrapes cannot hammer Redis or MySQL.
 */
@Injectable()
export class OpsMetricsService {
  private readonly backlog: Cached<Backlog | null>;
  private readonly room: Cached<WriteRoom | null>;

  constructor(
    redis: RedisMonitorRepository,
    private readonly mysql: MysqlMonitorRepository,
    outbox: OutboxRepository,
    private readonly tiering: TieringService,
    sampler: TieringRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    metrics: Metrics,
  ) {
    this.backlog = new Cached(
      () => orNull(() => outbox.backlog(), 'outbox backlog'),
      config.METRICS_CACHE_MS,
    );
    this.room = new Cached(async () => {
      const [stats, samples] = await Promise.all([
        redis.stats('primary'),
        sampler.sample(config.TIERING_SAMPLE_KEYS),
      ]);
      return writeRoom(stats, samples);
    }, WRITE_ROOM_CACHE_MS);
    this.register(metrics);
  }

  private register(metrics: Metrics): void {
    const registers = [metrics.registry];
    const room = this.room;
    const backlog = () => this.backlog.get();
    const tiering = (): Promise<TieringStatus | null> =>
      orNull(() => this.tiering.recentStatus(), 'tiering status');

    // Only the primary: volatile backfills are not replicated, and a replica takes no writes.
    new Gauge({
      name: 'catalog_redis_evictable_bytes',
      help: 'Estimated memory Redis can evict to make room for writes (volatile-lru: the volatile keys, count x sampled MEMORY USAGE)',
      labelNames: ['redis'] as const,
      registers,
      async collect() {
        this.reset();
        const r = await orNull(() => room.get(), 'write room');
        // Redis down: redis_up (redis_exporter) says so.
        if (r) this.set({ redis: 'primary' }, r.evictableBytes);
      },
    });

    registerPoolMetrics(registers, () => this.mysql.pools());

    new Gauge({
      name: 'catalog_outbox_backlog_rows',
      help: 'Outbox rows not yet applied and deleted by the relay (capped at 100000)',
      registers,
      async collect() {
        this.reset();
        const o = await backlog();
        if (o) this.set(o.rows);
      },
    });
    new Gauge({
      name: 'catalog_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox row (0 when empty): the relay lag',
      registers,
      async collect() {
        this.reset();
        const o = await backlog();
        if (o) this.set(o.oldestAgeSeconds);
      },
    });

    registerTieringMetrics(registers, tiering);
  }
}
