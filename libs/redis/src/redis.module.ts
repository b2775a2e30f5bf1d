import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import Redis, { RedisOptions } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger, requestContext } from '@app/logger';

/** One connection per record type, so a type can move to its own Redis by configuration alone. */
export const REDIS_PRODUCT = Symbol('REDIS_PRODUCT');
/** Prices and stock: their own Redis when configured, else the product connection itself. */
export const REDIS_PRICE = Symbol('REDIS_PRICE');
export const REDIS_STOCK = Symbol('REDIS_STOCK');
/** The product Redis' replica, for metrics and status only (null when REDIS_REPLICA_URL is empty). */
export const REDIS_REPLICA = Symbol('REDIS_REPLICA');

/** Where a record type's Redis is: a URL, or a Sentinel group that names the current primary. */
export interface RedisTarget {
  url: string;
  sentinels?: ReadonlyArray<{ host: string; port: number }>;
  sentinelName?: string;
  /** ACL user and password when the URL has none (REDIS_USERNAME/REDIS_PASSWORD); also used with Sentinels. */
  username?: string;
  password?: string;
}

/** The target's credentials: the URL's own when it has them, else the configured ones. */
function credentials(target: RedisTarget): { username?: string; password?: string } {
  const u = new URL(target.url);
  if (u.password) {
    return {
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: decodeURIComponent(u.password),
    };
  }
  return { username: target.username || undefined, password: target.password || undefined };
}

/** The product Redis as configured: through the Sentinels when REDIS_SENTINELS is set. */
export function productRedisTarget(config: AppConfig): RedisTarget {
  const auth = { username: config.REDIS_USERNAME, password: config.REDIS_PASSWORD };
  const sentinels = config.REDIS_SENTINELS.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
    });
  return sentinels.length
    ? { url: config.REDIS_PRODUCT_URL, sentinels, sentinelName: config.REDIS_SENTINEL_NAME, ...auth }
    : { url: config.REDIS_PRODUCT_URL, ...auth };
}

/**
 * A record type's Redis: its own URL or Sentinel master name when configured, else null (the product
 * Redis serves it, on the same connection).
 */
export function typeRedisTarget(config: AppConfig, type: 'price' | 'stock'): RedisTarget | null {
  const url = type === 'price' ? config.REDIS_PRICE_URL : config.REDIS_STOCK_URL;
  const name = type === 'price' ? config.REDIS_PRICE_SENTINEL_NAME : config.REDIS_STOCK_SENTINEL_NAME;
  const product = productRedisTarget(config);
  if (product.sentinels && name && name !== product.sentinelName)
    return { ...product, url: url ?? product.url, sentinelName: name };
  return url && url !== product.url && !name ? { url } : null;
}

function sameTarget(a: RedisTarget | null, b: RedisTarget | null): boolean {
  return a !== null && b !== null && a.url === b.url && a.sentinelName === b.sentinelName;
}

function typeRedis(config: AppConfig, logger: AppLogger, type: 'price' | 'stock'): Redis | null {
  const target = typeRedisTarget(config, type);
  return target
    ? createRedis(target, type, logger, config.REDIS_COMMAND_TIMEOUT_MS, {
        enableAutoPipelining: config.REDIS_AUTO_PIPELINING,
      })
    : null;
}

/**
 * Through Sentinel, ioredis asks the Sentinels for the primary, checks the ROLE of what it reached (a demoted
 * primary is refused and the Sentinels asked again), and with failoverDetector drops the connection as soon
 * as a Sentinel announces +switch-master. A READONLY answer (a primary demoted under an open connection)
 * reconnects and sends the command again to the new primary: a write never stays on a replica. The service
 * is the same ACL user on the Sentinels as on Redis (infra/redis, docs/security.md).
 */
function sentinelOptions(target: RedisTarget): RedisOptions {
  if (!target.sentinels?.length) return {};
  const u = new URL(target.url);
  const auth = credentials(target);
  return {
    sentinels: [...target.sentinels],
    name: target.sentinelName,
    role: 'master',
    failoverDetector: true,
    ...auth,
    sentinelUsername: auth.username,
    sentinelPassword: auth.password,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    sentinelRetryStrategy: (times) => Math.min(times * 200, 2_000),
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
}

export function createRedis(
  target: RedisTarget | string,
  name: string,
  logger: AppLogger,
  commandTimeout: number,
  options: RedisOptions = {},
): Redis {
  const log = logger.channel('redis');
  const t = typeof target === 'string' ? { url: target } : target;
  const url = t.sentinels?.length
    ? `sentinel://${t.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${t.sentinelName}`
    : t.url;
  const base: RedisOptions = {
    connectionName: `catalog:${name}`,
    commandTimeout,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...options,
  };
  const client = t.sentinels?.length
    ? new Redis({ ...base, ...sentinelOptions(t) })
    : new Redis(t.url, { ...base, ...credentials(t) });
  // One line when an outage starts and one when it ends, not one per reconnect attempt.
  let downSince = 0;
  let failures = 0;
  // Connection events belong to no request, even when a request's command opened the connection.
  const on = <A extends unknown[]>(event: string, handler: (...args: A) => void) =>
    client.on(event, (...args: A) => requestContext.exit(() => handler(...args)));
  on('error', (err: Error) => {
    failures++;
    if (downSince === 0) {
      downSince = Date.now();
      log.error(`redis ${name} unreachable: ${err.message}; retrying`, { url: redactUrl(url) });
    } else {
      log.debug(`redis ${name}: ${err.message}`, { url: redactUrl(url), failures });
    }
  });
  on('end', () => log.info(`redis ${name} connection closed`, { url: redactUrl(url) }));
  on('ready', () => {
    if (downSince === 0) {
      log.info(`redis ${name} ready`, { url: redactUrl(url) });
    } else {
      log.warn(`redis ${name} back after ${Math.round((Date.now() - downSince) / 1000)} s`, {
        url: redactUrl(url),
        failures,
      });
    }
    downSince = 0;
    failures = 0;
  });
  return client;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** What a readiness probe found; `ms` is how long it took. */
export interface ProbeResult {
  status: 'up' | 'down';
  ms: number;
  message?: string;
}

/**
 * Readiness asks Redis on a connection of its own, never the one the reads use: a probe must neither wait
 * behind the work's commands nor add to them. No retries: when the connection drops, the probe fails at
 * once; while it (re)connects, the PING waits for it, and the probe gives up after HEALTH_PROBE_TIMEOUT_MS
 * either way. (Failing at once while connecting turned a node that had just started, or whose event loop
 * had just been busy, not ready.)
 */
@Injectable()
export class RedisHealth implements OnApplicationShutdown {
  private readonly probeClient: Redis;
  private readonly timeoutMs: number;

  constructor(
    @Inject(REDIS_PRODUCT) private readonly product: Redis,
    @Inject(REDIS_REPLICA) private readonly replica: Redis | null,
    @Inject(REDIS_PRICE) private readonly price: Redis,
    @Inject(REDIS_STOCK) private readonly stock: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    logger: AppLogger,
  ) {
    this.timeoutMs = config.HEALTH_PROBE_TIMEOUT_MS;
    this.probeClient = createRedis(
      productRedisTarget(config),
      'product-health',
      logger,
      config.HEALTH_PROBE_TIMEOUT_MS,
      {
        maxRetriesPerRequest: 0,
        // Reconnects quickly once Redis is back, so readiness sees it again within a probe or two.
        retryStrategy: (times) => Math.min(times * 100, 500),
      },
    );
  }

  async probe(): Promise<ProbeResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probeClient.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      return { status: 'up', ms: Math.round(performance.now() - started) };
    } catch (e) {
      return {
        status: 'down',
        ms: Math.round(performance.now() - started),
        message: e instanceof Error ? e.message : 'unreachable',
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.probeClient.disconnect();
    for (const other of new Set([this.price, this.stock]))
      if (other !== this.product) {
        await other.quit().catch(() => undefined);
        other.disconnect();
      }
    await this.product.quit().catch(() => undefined);
    // Through Sentinel, only disconnect() closes the failover detector's Sentinel subscriptions; without it
    // the process would stay alive after shutdown.
    this.product.disconnect();
    this.replica?.disconnect();
  }
}

@Global()
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: REDIS_PRODUCT,
      inject: [APP_CONFIG, AppLogger],
      useFactory: (config: AppConfig, logger: AppLogger) =>
        createRedis(productRedisTarget(config), 'product', logger, config.REDIS_COMMAND_TIMEOUT_MS, {
          // Off by default: measured 20-30 % slower for concurrent MGETs (npm run bench, hot-100).
          enableAutoPipelining: config.REDIS_AUTO_PIPELINING,
        }),
    },
    {
      provide: REDIS_PRICE,
      inject: [APP_CONFIG, AppLogger, REDIS_PRODUCT],
      useFactory: (config: AppConfig, logger: AppLogger, product: Redis) =>
        typeRedis(config, logger, 'price') ?? product,
    },
    {
      // Stock on the same Redis as prices shares its connection, so a composed read is one MGET there.
      provide: REDIS_STOCK,
      inject: [APP_CONFIG, AppLogger, REDIS_PRODUCT, REDIS_PRICE],
      useFactory: (config: AppConfig, logger: AppLogger, product: Redis, price: Redis) =>
        sameTarget(typeRedisTarget(config, 'stock'), typeRedisTarget(config, 'price'))
          ? price
          : (typeRedis(config, logger, 'stock') ?? product),
    },
    {
      provide: REDIS_REPLICA,
      inject: [APP_CONFIG, AppLogger],
      // Connects on first use: a node that is never scraped never opens it.
      useFactory: (config: AppConfig, logger: AppLogger) =>
        config.REDIS_REPLICA_URL
          ? createRedis(
              {
                url: config.REDIS_REPLICA_URL,
                username: config.REDIS_USERNAME,
                password: config.REDIS_PASSWORD,
              },
              'replica',
              logger,
              1_000,
              {
                lazyConnect: true,
                maxRetriesPerRequest: 0,
              },
            )
          : null,
    },
    RedisHealth,
  ],
  exports: [REDIS_PRODUCT, REDIS_PRICE, REDIS_STOCK, REDIS_REPLICA, RedisHealth],
})
export class RedisModule {}
