import { z } from 'zod';

const int = (def: number) => z.coerce.number().int().nonnegative().default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/**
 * Demo keys of the local stack (README: local only). sha256 of
 * "local-demo-write-key" and "local-demo-read-key"; refused when NODE_ENV=production.
 */
export const DEMO_API_KEYS =
  'demo-writer:write:c9a50224e9db8da872c5be4121ce51e6ff1a254f10461d6604e09dd14633961f,' +
  'demo-reader:read:e111a193f4ba5d51c08cb72ff1ade65796e407aed1b29569dd3f90c80fe66db5';

/** A Cache-Control value made of directives only (no quotes, no newlines), e.g. `public, max-age=60`. */
const cacheControl = z
  .string()
  .regex(/^[a-z-]+(=\d+)?(, *[a-z-]+(=\d+)?)*$/, 'comma-separated Cache-Control directives');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  NODE_NAME: z.string().min(1).default('node-1'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(28081),
  SHUTDOWN_DRAIN_MS: int(2_000),
  SHUTDOWN_GRACE_MS: int(10_000),
  KEEP_ALIVE_TIMEOUT_MS: int(75_000),

  REDIS_URL: z.string().url().default('redis://127.0.0.1:26379'),
  /** One Redis per record type is configuration, not code: unset means "same as REDIS_URL". */
  REDIS_PRODUCT_URL: z.string().url().optional(),
  /**
   * Redis ACL user of the service, on Redis and on the Sentinels, used when the URL carries no credentials.
   * Empty: the `default` user without a password (a Redis of a test's own); the stack's Redis has none.
   */
  REDIS_USERNAME: z.string().default(''),
  REDIS_PASSWORD: z.string().default(''),
  REDIS_COMMAND_TIMEOUT_MS: int(2_000),
  REDIS_AUTO_PIPELINING: bool(false),
  /**
   * Sentinels (`host:port,host:port,...`) that name the product Redis' primary; when set, the service finds
   * the primary through them and follows a failover by itself, and REDIS_PRODUCT_URL only supplies the
   * credentials and database. Empty: connect to REDIS_PRODUCT_URL directly (tests with a Redis of their own).
   */
  REDIS_SENTINELS: z
    .string()
    .regex(/^(\s*[^\s,:]+:\d+\s*(,\s*[^\s,:]+:\d+\s*)*)?$/, 'expected host:port[,host:port...]')
    .default(''),
  REDIS_SENTINEL_NAME: z.string().min(1).default('catalog'),
  /**
   * Prices and stock may live on a Redis of their own (shard by type). Unset URL: the product Redis. With
   * REDIS_SENTINELS set, the type's primary is found through the same Sentinels under its own master name
   * (unset: REDIS_SENTINEL_NAME) and the URL supplies the credentials only.
   */
  REDIS_PRICE_URL: z.string().url().optional(),
  REDIS_PRICE_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_STOCK_URL: z.string().url().optional(),
  REDIS_STOCK_SENTINEL_NAME: z.string().min(1).optional(),
  /** Monitored only (metrics, status): empty disables it. */
  REDIS_REPLICA_URL: z.union([z.literal(''), z.string().url()]).default('redis://127.0.0.1:26380'),

  MYSQL_WRITER_HOST: z.string().default('127.0.0.1'),
  MYSQL_WRITER_PORT: int(23316),
  MYSQL_READER_HOST: z.string().default('127.0.0.1'),
  MYSQL_READER_PORT: int(23317),
  MYSQL_USER: z.string().default('catalog'),
  MYSQL_PASSWORD: z.string().default('catalog'),
  MYSQL_DATABASE: z.string().default('catalog'),
  MYSQL_POOL_SIZE: int(20),
  /** Both masters directly (not through HAProxy), for replication state in metrics; empty host disables one. */
  MYSQL_A_HOST: z.string().default('127.0.0.1'),
  MYSQL_A_PORT: int(23306),
  MYSQL_B_HOST: z.string().default('127.0.0.1'),
  MYSQL_B_PORT: int(23307),
  MYSQL_MONITOR_USER: z.string().default('monitor'),
  MYSQL_MONITOR_PASSWORD: z.string().default('monitor'),

  CACHE_TTL_SECONDS: int(3_600),
  CACHE_TTL_JITTER: z.coerce.number().min(0).max(1).default(0.2),
  NEGATIVE_TTL_SECONDS: int(60),
  TOMBSTONE_TTL_SECONDS: int(600),
  COALESCE_MAX_IDS: int(1_000),

  HTTP_MAX_AGE: int(60),
  HTTP_S_MAXAGE: int(300),
  HTTP_STALE_WHILE_REVALIDATE: int(30),
  HTTP_STALE_IF_ERROR: int(86_400),
  HTTP_NOT_FOUND_MAX_AGE: int(10),
  /** Freshness of a category walk page: membership changes are not purged, this is their bound. */
  CATEGORY_PAGE_MAX_AGE: int(10),
  /** Freshness of stock answers (it changes often): a composed answer takes the shortest of its parts. */
  HTTP_STOCK_MAX_AGE: int(10),
  HTTP_STOCK_S_MAXAGE: int(30),
  /**
   * Markets and the warehouses that stock each: `market:warehouse[+warehouse],...`. A market is a country
   * and a currency (`de-EUR`); warehouses are lowercase names.
   */
  MARKETS: z
    .string()
    .regex(
      /^[a-z]{2}-[A-Z]{3}:[a-z0-9-]{1,10}(\+[a-z0-9-]{1,10})*(,[a-z]{2}-[A-Z]{3}:[a-z0-9-]{1,10}(\+[a-z0-9-]{1,10})*)*$/,
      'expected market:warehouse[+warehouse],... with markets like de-EUR',
    )
    .default('de-EUR:berlin+lyon,fr-EUR:lyon+berlin,ch-CHF:berlin'),
  /** At or below this quantity a market's availability is `low`. */
  STOCK_LOW_THRESHOLD: int(5),
  /** Whole Cache-Control of one read route, replacing the one built from the HTTP_* numbers above. */
  HTTP_CACHE_CONTROL_PRODUCT: cacheControl.optional(),
  HTTP_CACHE_CONTROL_PRODUCT_LIST: cacheControl.optional(),

  MAX_IDS: int(500),
  MAX_BATCH_ITEMS: int(1_000),
  BODY_LIMIT_BYTES: int(256 * 1024),
  BATCH_BODY_LIMIT_BYTES: int(8 * 1024 * 1024),

  API_KEYS: z.string().default(DEMO_API_KEYS),

  RELAY_ENABLED: bool(true),
  RELAY_INTERVAL_MS: int(1_000),
  RELAY_GRACE_MS: int(2_000),
  RELAY_LEASE_MS: int(5_000),
  RELAY_BATCH: int(500),

  TIERING_ENABLED: bool(true),
  TIERING_INTERVAL_MS: int(60_000),
  /** The persistent set's budget in bytes; 0: TIERING_PERSISTENT_BUDGET_RATIO of Redis maxmemory. */
  TIERING_PERSISTENT_BUDGET_BYTES: int(0),
  TIERING_PERSISTENT_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  /** A pass that has to demote goes down to this fraction of the budget, so passes do not flap. */
  TIERING_TARGET_FILL: z.coerce.number().min(0.1).max(1).default(0.9),
  TIERING_IDLE_SECONDS: int(3_600),
  TIERING_DEMOTE_TTL_SECONDS: int(3_600),
  TIERING_SCAN_COUNT: int(1_000),
  TIERING_SAMPLE_KEYS: int(1_000),
  TIERING_MAX_DEMOTE: int(200_000),
  TIERING_LEASE_MS: int(60_000),

  /** Scrapes reuse what the expensive collectors (Redis INFO, replication, outbox) read this recently. */
  METRICS_CACHE_MS: int(5_000),
  /** This node's Varnish, where its purger sends xkey purges; unset = no edge cache, no purger. */
  VARNISH_PURGE_URL: z.string().url().or(z.literal('')).optional(),
  /** Entries kept in the invalidation stream (approximate trim); a node further behind purges everything. */
  PURGE_STREAM_MAXLEN: int(100_000),
  /** How long a write's response waits for its own node's purge (0: not at all). */
  PURGE_WAIT_MS: int(1_000),
  /** A second purge of the same tags this much later drops copies a fetch in flight stored after the first. */
  PURGE_REPEAT_MS: int(2_000),
  /** Readiness fails while this node's purges lag the stream by more than this. */
  PURGE_READY_MAX_LAG_MS: int(2_000),
  PURGE_TIMEOUT_MS: int(2_000),

  /**
   * Availability (docs/operations.md, "Readiness, breakers and load shedding"): a circuit breaker in front of
   * each store's reads turns a slow or failed store into a fast fallback (Redis -> MySQL) or a fast 503.
   */
  REDIS_READ_TIMEOUT_MS: int(250),
  MYSQL_READ_TIMEOUT_MS: int(1_500),
  /** Cold-tier queries in flight per node; beyond it a read that needs MySQL gets 503 at once, never a queue. */
  MYSQL_READ_MAX_CONCURRENT: int(40),
  BREAKER_WINDOW_MS: int(2_000),
  BREAKER_ERROR_PERCENT: z.coerce.number().min(1).max(100).default(50),
  /** Calls a breaker needs in its window before failures can open it. */
  BREAKER_MIN_CALLS: int(10),
  BREAKER_RESET_MS: int(2_000),
  /** Readiness probes of its own connections give up after this long. */
  HEALTH_PROBE_TIMEOUT_MS: int(500),
  /** Retry-After of every 503 a client may retry (store unavailable, load shed). */
  RETRY_AFTER_SECONDS: int(2),
  /** Load shedding (@fastify/under-pressure), sampled every SHED_SAMPLE_MS; 0 turns a check off. */
  SHED_SAMPLE_MS: int(250),
  SHED_MAX_EVENT_LOOP_DELAY_MS: int(100),
  SHED_MAX_EVENT_LOOP_UTILIZATION: z.coerce.number().min(0).max(1).default(0),
  /** Fraction of V8's heap limit. */
  SHED_MAX_HEAP_RATIO: z.coerce.number().min(0).max(1).default(0.9),

  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug']).default('info'),
  /** Per-channel overrides of LOG_LEVEL, e.g. `redis=debug,http=warn`. */
  LOG_CHANNEL_LEVELS: z
    .string()
    .regex(
      /^(\s*[a-z]+=(error|warn|info|http|verbose|debug)\s*(,\s*[a-z]+=(error|warn|info|http|verbose|debug)\s*)*)?$/,
      'expected channel=level[,channel=level...] with levels error|warn|info|http|verbose|debug',
    )
    .default(''),
  LOG_DIR: z.string().optional(),
  LOG_STDOUT: bool(true),

  /** Fault injection for the crash-convergence test; ignored in production. */
  CATALOG_FAILPOINT: z.enum(['', 'after-mysql-commit']).default(''),
});

export type AppConfig = z.infer<typeof schema> & { REDIS_PRODUCT_URL: string };

/** MARKETS as a map: market -> its warehouses, in configured order. */
export function marketsOf(config: Pick<AppConfig, 'MARKETS'>): Map<string, string[]> {
  return new Map(
    config.MARKETS.split(',').map((entry) => {
      const [market, warehouses] = entry.split(':');
      return [market, warehouses.split('+')];
    }),
  );
}

export class ConfigError extends Error {}

/** Passwords anyone can guess: the defaults above and those of the stack before per-stack secrets. */
const DEFAULT_SECRETS = new Set(['', 'catalog', 'monitor', 'repl', 'password', 'secret']);

/** What production refuses: the local stack's demo keys and default or empty secrets. */
function productionDefects(cfg: z.infer<typeof schema>): string[] {
  const bad: string[] = [];
  if (cfg.API_KEYS === DEMO_API_KEYS)
    bad.push('API_KEYS: must be set in production (the demo keys are local only)');
  const urlPassword = (url: string) => decodeURIComponent(new URL(url).password);
  const redisPasswords = [cfg.REDIS_URL, cfg.REDIS_PRODUCT_URL, cfg.REDIS_REPLICA_URL]
    .filter((u): u is string => !!u)
    .map((u) => urlPassword(u) || cfg.REDIS_PASSWORD);
  if (redisPasswords.some((p) => DEFAULT_SECRETS.has(p)))
    bad.push('REDIS_PASSWORD: must be set in production (Redis refuses the default user)');
  if (DEFAULT_SECRETS.has(cfg.MYSQL_PASSWORD))
    bad.push('MYSQL_PASSWORD: must not be empty or a default in production');
  if (DEFAULT_SECRETS.has(cfg.MYSQL_MONITOR_PASSWORD))
    bad.push('MYSQL_MONITOR_PASSWORD: must not be empty or a default in production');
  return bad;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  if (cfg.NODE_ENV === 'production') {
    const bad = productionDefects(cfg);
    if (bad.length) throw new ConfigError(`Invalid configuration:\n${bad.map((b) => `  ${b}`).join('\n')}`);
    cfg.CATALOG_FAILPOINT = '';
  }
  return { ...cfg, REDIS_PRODUCT_URL: cfg.REDIS_PRODUCT_URL ?? cfg.REDIS_URL };
}
