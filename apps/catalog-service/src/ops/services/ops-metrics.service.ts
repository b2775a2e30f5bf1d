import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Cached, Metrics } from '@app/metrics';
import { MysqlMonitorRepository, ReplicationState } from '@catalog/ops/repositories/mysql-monitor.repository';
import { OutboxRepository } from '@catalog/record-types/repositories/outbox.repository';
import {
  RedisInstance,
  RedisMonitorRepository,
  RedisStats,
} from '@catalog/tiering/repositories/redis-monitor.repository';
import { TieringRepository } from '@catalog/tiering/repositories/tiering.repository';
import { TieringService, TieringStatus } from '@catalog/tiering/services/tiering.service';
import { registerPoolMetrics, registerTieringMetrics } from './ops-gauges';
import { WriteRoom, writeRoom } from '@catalog/tiering/services/write-room';

const PROBE_TIMEOUT_MS = 2_000;
/** The write room samples TIERING_SAMPLE_KEYS keys: scrapes reuse it this long (as the tiering estimate). */
const WRITE_ROOM_CACHE_MS = 30_000;

interface Snapshot {
  redis: Array<{ instance: RedisInstance; stats: RedisStats | null }>;
  mysql: Array<{ server: 'a' | 'b'; state: ReplicationState | null }>;
  outbox: { rows: number; oldestAgeSeconds: number } | null;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The operational gauges (Redis per instance, MySQL replication of both masters, pools, outbox, tiering).
 * They are read in prom-client collect() callbacks, never on the request path, and through a cache of
 * METRICS_CACHE_MS so that scrapes cannot hammer Redis or MySQL. State changes seen by a scrape are logged.
 */
@Injectable()
export class OpsMetricsService {
  private readonly snapshot: Cached<Snapshot>;
  private readonly room: Cached<WriteRoom | null>;
  private previous?: Snapshot;
  private readonly redisLog;
  private readonly mysqlLog;

  constructor(
    private readonly redis: RedisMonitorRepository,
    private readonly mysql: MysqlMonitorRepository,
    private readonly outbox: OutboxRepository,
    private readonly tiering: TieringService,
    sampler: TieringRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    metrics: Metrics,
    logger: AppLogger,
  ) {
    this.redisLog = logger.channel('redis');
    this.mysqlLog = logger.channel('mysql');
    this.snapshot = new Cached(() => this.read(), config.METRICS_CACHE_MS);
    this.room = new Cached(async () => {
      const [stats, samples] = await Promise.all([
        this.redis.stats('primary'),
        sampler.sample(config.TIERING_SAMPLE_KEYS),
      ]);
      return writeRoom(stats, samples);
    }, WRITE_ROOM_CACHE_MS);
    this.register(metrics);
  }

  private async read(): Promise<Snapshot> {
    const settle = async <T>(p: () => Promise<T>, what: string): Promise<T | null> => {
      try {
        return await withTimeout(p(), PROBE_TIMEOUT_MS, what);
      } catch {
        return null;
      }
    };
    const [redis, mysql, outbox] = await Promise.all([
      Promise.all(
        this.redis.configured().map(async (instance) => ({
          instance,
          stats: await settle(() => this.redis.stats(instance), `redis ${instance}`),
        })),
      ),
      Promise.all(
        this.mysql.configured().map(async (server) => ({
          server,
          state: await settle(() => this.mysql.replication(server), `mysql ${server}`),
        })),
      ),
      settle(() => this.outbox.backlog(), 'outbox backlog'),
    ]);
    const snapshot = { redis, mysql, outbox };
    this.logChanges(this.previous, snapshot);
    this.previous = snapshot;
    return snapshot;
  }

  /** One line per change of state, so the logs tell when replication broke and when it came back. */
  private logChanges(before: Snapshot | undefined, now: Snapshot): void {
    for (const { server, state } of now.mysql) {
      const was = before?.mysql.find((m) => m.server === server)?.state;
      const ok = (s: ReplicationState | null | undefined) => !!s && s.ioRunning && s.sqlRunning;
      if (before && ok(was) === ok(state) && (was === null) === (state === null)) continue;
      if (state === null) {
        this.mysqlLog.error(`mysql ${server} does not answer the monitor account`);
      } else if (!ok(state)) {
        this.mysqlLog.error(`mysql ${server}: replication from its peer is not running`, {
          configured: state.configured,
          ioRunning: state.ioRunning,
          sqlRunning: state.sqlRunning,
          lastIoError: state.lastIoError,
          lastSqlError: state.lastSqlError,
        });
      } else if (before) {
        this.mysqlLog.warn(`mysql ${server}: replication from its peer is running again`, {
          lagSeconds: state.lagSeconds,
          gtidIoPos: state.gtidIoPos,
        });
      }
    }
    for (const { instance, stats } of now.redis) {
      const was = before?.redis.find((r) => r.instance === instance)?.stats;
      if (instance !== 'replica' || !before) continue;
      if (was?.masterLinkUp !== false && stats?.masterLinkUp === false)
        this.redisLog.error('redis replica: link to the primary is down');
      else if (was?.masterLinkUp === false && stats?.masterLinkUp === true)
        this.redisLog.warn('redis replica: link to the primary is up again');
    }
  }

  private register(metrics: Metrics): void {
    const registers = [metrics.registry];
    const snapshot = () => this.snapshot.get();
    const room = this.room;
    const tiering = async (): Promise<TieringStatus | null> => {
      try {
        return await withTimeout(this.tiering.recentStatus(), PROBE_TIMEOUT_MS, 'tiering status');
      } catch {
        return null;
      }
    };

    /** A gauge per Redis instance, from the INFO snapshot. */
    const redisGauge = (name: string, help: string, value: (s: RedisStats) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['redis'] as const,
        registers,
        async collect() {
          this.reset();
          for (const { instance, stats } of (await snapshot()).redis) {
            const v = stats ? value(stats) : undefined;
            if (v !== undefined) this.set({ redis: instance }, v);
          }
        },
      });

    new Gauge({
      name: 'catalog_redis_up',
      help: 'Whether the Redis instance answered INFO (primary: the product Redis; replica: REDIS_REPLICA_URL)',
      labelNames: ['redis'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { instance, stats } of (await snapshot()).redis)
          this.set({ redis: instance }, stats ? 1 : 0);
      },
    });
    redisGauge(
      'catalog_redis_keys',
      'Keys in the Redis instance (INFO keyspace, all databases)',
      (s) => s.keys,
    );
    redisGauge('catalog_redis_expires', 'Keys with a TTL (volatile keys)', (s) => s.expires);
    redisGauge(
      'catalog_redis_expire_ratio',
      'expires / keys (1 when empty): under volatile-lru, near 0 means writes will soon fail with OOM',
      (s) => (s.keys > 0 ? s.expires / s.keys : 1),
    );
    redisGauge('catalog_redis_used_memory_bytes', 'INFO used_memory', (s) => s.usedMemory);
    redisGauge('catalog_redis_maxmemory_bytes', 'INFO maxmemory (0: no limit)', (s) => s.maxmemory);
    redisGauge('catalog_redis_is_primary', '1 when the instance has the master role', (s) =>
      s.role === 'master' ? 1 : 0,
    );
    redisGauge('catalog_redis_connected_replicas', 'INFO connected_slaves', (s) => s.connectedReplicas);
    redisGauge('catalog_redis_master_link_up', 'Replicas only: 1 when the link to the primary is up', (s) =>
      s.masterLinkUp === undefined ? undefined : s.masterLinkUp ? 1 : 0,
    );
    redisGauge(
      'catalog_redis_replica_lag_bytes',
      'Primaries only: replication bytes the slowest replica has not acknowledged',
      (s) => s.replicaLagBytes,
    );
    // Only the primary: volatile backfills are not replicated, and a replica takes no writes.
    new Gauge({
      name: 'catalog_redis_evictable_bytes',
      help: 'Estimated memory Redis can evict to make room for writes (volatile-lru: the volatile keys, count x sampled MEMORY USAGE)',
      labelNames: ['redis'] as const,
      registers,
      async collect() {
        this.reset();
        try {
          const r = await withTimeout(room.get(), PROBE_TIMEOUT_MS, 'write room');
          if (r) this.set({ redis: 'primary' }, r.evictableBytes);
        } catch {
          // Redis down: catalog_redis_up says so.
        }
      },
    });
    new Counter({
      name: 'catalog_redis_evicted_keys_total',
      help: 'INFO evicted_keys: keys Redis evicted under maxmemory (volatile-lru: volatile keys only)',
      labelNames: ['redis'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { instance, stats } of (await snapshot()).redis)
          if (stats) this.inc({ redis: instance }, stats.evictedKeys);
      },
    });

    new Gauge({
      name: 'catalog_mysql_up',
      help: 'Whether the MySQL master answered the monitor account',
      labelNames: ['server'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { server, state } of (await snapshot()).mysql) this.set({ server }, state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'catalog_mysql_replication_running',
      help: 'Whether the replication thread (io, sql) of the master replicating from its peer runs',
      labelNames: ['server', 'thread'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { server, state } of (await snapshot()).mysql) {
          if (!state) continue;
          this.set({ server, thread: 'io' }, state.ioRunning ? 1 : 0);
          this.set({ server, thread: 'sql' }, state.sqlRunning ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'catalog_mysql_semi_sync_master_on',
      help: 'Whether commits on this master wait for its peer (lossless semi-sync); 0: asynchronous, peer down or behind',
      labelNames: ['server'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { server, state } of (await snapshot()).mysql)
          if (state && state.semiSyncMaster !== null) this.set({ server }, state.semiSyncMaster ? 1 : 0);
      },
    });
    new Gauge({
      name: 'catalog_mysql_replication_lag_seconds',
      help: 'Seconds_Behind_Master of the master replicating from its peer (absent while the SQL thread stops)',
      labelNames: ['server'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { server, state } of (await snapshot()).mysql)
          if (state?.lagSeconds !== null && state?.lagSeconds !== undefined)
            this.set({ server }, state.lagSeconds);
      },
    });

    registerPoolMetrics(registers, () => this.mysql.pools());

    new Gauge({
      name: 'catalog_outbox_backlog_rows',
      help: 'Outbox rows not yet applied and deleted by the relay (capped at 100000)',
      registers,
      async collect() {
        this.reset();
        const o = (await snapshot()).outbox;
        if (o) this.set(o.rows);
      },
    });
    new Gauge({
      name: 'catalog_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox row (0 when empty): the relay lag',
      registers,
      async collect() {
        this.reset();
        const o = (await snapshot()).outbox;
        if (o) this.set(o.oldestAgeSeconds);
      },
    });

    registerTieringMetrics(registers, tiering);
  }
}
