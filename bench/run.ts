/**
 * npm run bench [-- --quick] [--products N] [--rounds R] [--seconds S] [--no-import] [--keep] (--help)
 *
 * Starts (or reuses) a bench stack (STACK_NAME=bench), seeds a fixed data set, starts the service and the
 * baselines as separate processes, and runs every scenario with wrk, several rounds interleaved, so that
 * the ratios between scenarios mean something on a shared 2-core machine. Writes bench/results/<time>.{md,json}.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import {
  cpuSeconds,
  cpuSnapshot,
  machineBusySeconds,
  Proc,
  servingProcesses,
  settle,
  startCommand,
  startProc,
  stopAll,
} from './lib/procs';
import { runWrk, runWrkWrites, WrkResult, WrkWriteResult, writePaths } from './lib/wrk';
import { importScenario, ImportResult } from './lib/import';
import { renderReport, Row, Target } from './lib/report';
import { rng } from './lib/rng';
import { readEnvFile } from '@app/config';

/** The stack's primary Redis as its admin account (the service's account may not touch bench:* keys). */
function adminRedis(env: Record<string, string>, secrets: Record<string, string>): Redis {
  const url = new URL(env.REDIS_URL);
  return new Redis(Number(url.port), url.hostname, {
    username: secrets.REDIS_ADMIN_USER,
    password: secrets.REDIS_ADMIN_PASSWORD,
  });
}

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');
const MAIN = path.join(DIST, 'apps/catalog-service/src/main.js');
const BASELINE = path.join(DIST, 'bench/baselines/server.js');
const SEED = path.join(DIST, 'apps/catalog-service/src/scripts/seed.js');
const MIGRATE = path.join(DIST, 'apps/catalog-service/src/scripts/migrate.js');
const COLD_START = 50_000_001;

const USAGE = `usage: npm run bench [-- --quick] [--products N] [--rounds R] [--seconds S] [--connections C]
                       [--import-products N] [--no-import] [--no-keyspace] [--no-mixed] [--only a,b] [--keep]

Measures the service against baselines on a bench stack (STACK_NAME=bench, ports +BENCH_PORT_OFFSET, default
1900) and writes bench/results/<time>.{md,json}. A full run takes about an hour on a 2-core machine.

  --quick              a few seconds per scenario (proves the harness works; figures are not judged)
  --products N         products in the bench data set (default 100000, quick 10000)
  --rounds R           interleaved rounds per scenario (default 5, quick 1)
  --seconds S          seconds per scenario and round (default 6, quick 2)
  --connections C      wrk connections (default 32)
  --import-products N  rows for the LOAD DATA import scenario (default 1000000, quick 20000)
  --no-import, --no-keyspace, --no-mixed   skip those scenarios
  --only a,b           run only these scenarios (targets need their pairs)
  --keep               leave the bench stack running afterwards (it is stopped when this run started it)
  -h, --help           this help

The bench stack is stopped at the end if this run started it; one that was already running is left
running. Stop it by hand with: STACK_NAME=bench STACK_PORT_OFFSET=1900 scripts/stack.sh stop`;

const { values: opts } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h', default: false },
    keep: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    products: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '32' },
    'import-products': { type: 'string' },
    'no-import': { type: 'boolean', default: false },
    'no-keyspace': { type: 'boolean', default: false },
    'no-mixed': { type: 'boolean', default: false },
    /** Comma-separated scenario names: run only those (for profiling one change; targets need their pairs). */
    only: { type: 'string' },
  },
});
if (opts.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
const quick = opts.quick;
const products = Number(opts.products ?? (quick ? 10_000 : 100_000));
const rounds = Number(opts.rounds ?? (quick ? 1 : 5));
const seconds = Number(opts.seconds ?? (quick ? 2 : 6));
const connections = Number(opts.connections);
const importProducts = Number(opts['import-products'] ?? (quick ? 20_000 : 1_000_000));
const coldProducts = quick ? 50_000 : 300_000;
const keyspace = quick ? { small: 2_000, large: 20_000 } : { small: 10_000, large: 1_000_000 };

const stackEnv: Record<string, string> = {
  STACK_NAME: 'bench',
  STACK_PORT_OFFSET: process.env.BENCH_PORT_OFFSET ?? '1900',
};
const work = path.join(ROOT, '.stack', 'bench', 'bench-run');
const log = (s: string) => process.stdout.write(s + '\n');
const STOP_COMMAND = `STACK_NAME=bench STACK_PORT_OFFSET=${stackEnv.STACK_PORT_OFFSET} scripts/stack.sh stop`;

/** Whether a process recorded in the bench stack's pid files still runs (the stack was started before). */
function benchStackRunning(): boolean {
  const dir = path.join(ROOT, '.stack', 'bench', 'pids');
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(dir).some((f) => {
    const pid = Number(fs.readFileSync(path.join(dir, f), 'utf8').trim());
    try {
      return pid > 0 && (process.kill(pid, 0), true);
    } catch {
      return false;
    }
  });
}
let startedStack = false;

/** Stops the bench stack if this run started it and --keep was not given; otherwise says how to stop it. */
function leaveStack(): void {
  if (startedStack && !opts.keep) {
    log('bench: stopping the bench stack this run started (--keep leaves it running)');
    sh('scripts/stack.sh', ['stop']);
  } else if (benchStackRunning()) {
    log(
      `bench: the bench stack keeps running${opts.keep ? ' (--keep)' : ' (it was running before)'}; stop it with: ${STOP_COMMAND}`,
    );
  }
}

function sh(cmd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...stackEnv, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();
}

function idLists(count: number, size: number, from: number, span: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const s = new Set<number>();
    while (s.size < size) s.add(from + Math.floor(r() * span));
    return [...s];
  });
}
const bulkPaths = (lists: number[][]) => lists.map((ids) => `/v1/products?ids=${ids.join(',')}`);

/**
 * Cold reads: the range is cut into disjoint lists of `size` shuffled ids, visited in turn, so an id comes
 * back only after the whole range has been read (longer than the cold service's 1 s cache TTL).
 */
function coldLists(size: number, from: number, span: number, seed: number): number[][] {
  const r = rng(seed);
  const ids = Array.from({ length: span }, (_, i) => from + i);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return Array.from({ length: Math.floor(span / size) }, (_, i) => ids.slice(i * size, (i + 1) * size));
}

async function ensureDataset(env: Record<string, string>, secrets: Record<string, string>): Promise<void> {
  const redis = adminRedis(env, secrets);
  const want = `${products}+cold${coldProducts}+prices+stock`;
  const have = await redis.get('bench:dataset');
  if (have !== want) {
    log(
      `seeding ${products} hot products (MySQL + persistent Redis keys) and ${coldProducts} MySQL-only cold products`,
    );
    // The bench stack's connection settings: without them the seed would go to the dev stack's defaults. The
    // reset TRUNCATEs, which only the migrations' account may.
    sh('node', [SEED, '--reset', '--products', String(products), '--quiet'], {
      ...env,
      MYSQL_USER: secrets.MYSQL_MIGRATE_USER,
      MYSQL_PASSWORD: secrets.MYSQL_MIGRATE_PASSWORD,
    });
    const cold = [
      '--append',
      '--start',
      String(COLD_START),
      '--products',
      String(coldProducts),
      '--redis',
      'none',
    ];
    sh('node', [SEED, ...cold, '--quiet'], env);
    await redis.set('bench:dataset', want);
  }
  // Whatever an earlier run or a person left cached of the cold range goes, so cold reads really are cold.
  for (let id = COLD_START; id < COLD_START + coldProducts; id += 1000) {
    const keys = Array.from(
      { length: Math.min(1000, COLD_START + coldProducts - id) },
      (_, i) => `product:${id + i}`,
    );
    await redis.unlink(...keys);
  }
  redis.disconnect();
}

/** A Redis of its own per keyspace size, so "keyspace size must not matter" compares like with like. */
async function keyspaceRedis(
  env: Record<string, string>,
  name: string,
  port: number,
  keys: number,
  password: string,
): Promise<string> {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  // A Redis of the bench's own: its default user with a password (the services run as production, which
  // refuses a Redis without one); the processes pointed at it drop the stack's ACL user.
  const url = `redis://:${password}@127.0.0.1:${port}`;
  const ping = () => {
    try {
      return (
        execFileSync('redis-cli', ['--no-auth-warning', '-p', String(port), 'ping'], {
          stdio: ['ignore', 'pipe', 'ignore'],
          env: { ...process.env, REDISCLI_AUTH: password },
        })
          .toString()
          .trim() === 'PONG'
      );
    } catch {
      return false;
    }
  };
  if (!ping()) {
    const pidFile = path.join(dir, 'redis.pid');
    // The password in a file of its own (mode 600), not on the command line where ps shows it.
    const auth = path.join(dir, 'auth.conf');
    fs.writeFileSync(auth, `requirepass ${password}\n`, { mode: 0o600 });
    execFileSync('redis-server', [
      auth,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--pidfile',
      pidFile,
      '--logfile',
      path.join(dir, 'redis.log'),
    ]);
    for (let i = 0; i < 50 && !(fs.existsSync(pidFile) && ping()); i++)
      await new Promise((r) => setTimeout(r, 100));
    // Recorded with the stack's pids, so `STACK_NAME=bench scripts/stack.sh stop` stops it too.
    fs.copyFileSync(pidFile, path.join(ROOT, '.stack', 'bench', 'pids', `redis-bench-${name}.pid`));
  }
  const redis = new Redis(url);
  if ((await redis.dbsize()) !== keys) {
    log(`loading ${keys} keys into the ${name} keyspace Redis (:${port})`);
    await redis.flushall();
    sh('node', [SEED, '--mysql', 'none', '--products-only', '--products', String(keys), '--quiet'], {
      ...env,
      REDIS_URL: url,
      REDIS_USERNAME: '',
      REDIS_PASSWORD: '',
    });
  }
  redis.disconnect();
  return url;
}

/** GC pause seconds by kind (minor, major, incremental) a service process reports (prom-client's default metrics). */
async function gcSeconds(port: number): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^catalog_nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} (\S+)$/gm))
    out[m[1]] = Number(m[2]);
  return out;
}

/** Which scenarios a target compares: they run back to back in every round. */
const GROUP_OF = (name: string): string =>
  ({
    bare: 'hot-100',
    naive: 'hot-100',
    'composed-100': 'hot-100',
    'bare-mysql': 'cold-100',
    'bare-edge': 'edge-hit-100',
  })[name] ?? (name.startsWith('hot-100@') ? 'keyspace' : name);

interface Scenario {
  name: string;
  proc: Proc;
  paths: string;
  headers?: string[];
}

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error('dist is missing: npm run bench builds first');
  fs.mkdirSync(work, { recursive: true });
  log(
    `bench: ${quick ? 'quick' : 'full'} run, ${products} products, ${rounds} rounds x ${seconds} s, ${connections} connections`,
  );
  // The whole stack: infra, two service nodes with their Varnishes, the front HAProxy (edge scenarios).
  startedStack = !benchStackRunning();
  sh('scripts/stack.sh', ['start'], {
    REDIS_MAXMEMORY: quick ? '1gb' : '3gb',
    SERVICE_NODES: '2',
    SEED_PRODUCTS: '0',
    LOG_LEVEL: 'info',
    // Varnish keeps copies for an hour here (default 300 s): edge-hit-100 means all hits, and a full run
    // lasts longer than 300 s, so without it the later rounds measure a wave of revalidations.
    HTTP_S_MAXAGE: '3600',
  });
  const env = JSON.parse(fs.readFileSync(path.join(ROOT, '.stack/bench/env.json'), 'utf8')) as Record<
    string,
    string
  >;
  // The bench is the operator of its stack: migrations as their account, its own bookkeeping as Redis admin.
  const secrets = readEnvFile(path.join(ROOT, '.stack/bench/secrets.env'));
  sh('node', [MIGRATE], {
    ...env,
    MYSQL_USER: secrets.MYSQL_MIGRATE_USER,
    MYSQL_PASSWORD: secrets.MYSQL_MIGRATE_PASSWORD,
  });
  await ensureDataset(env, secrets);

  // Bench processes take the free ports 26381-26389 (+ offset) of the stack's Redis port cluster.
  const base = Number(env.REDIS_URL.split(':').pop()) + 2;
  const svcEnv = {
    ...env,
    LOG_STDOUT: 'false',
    NODE_ENV: 'production',
    API_KEYS: 'bench:write:' + 'b'.repeat(64),
    SHUTDOWN_DRAIN_MS: '0',
    // The stack's own nodes run the tiering job (a lease per Redis); a measured process must not win that
    // lease and scan the keyspace in the middle of a round (the keyspace services have a Redis each).
    TIERING_ENABLED: 'false',
  };
  const logf = (n: string) => path.join(work, `${n}.log`);
  // BENCH_SERVICE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the measured service
  // processes only (the baselines keep theirs). Node refuses --cpu-prof in NODE_OPTIONS, so they go on argv.
  const MAIN_ARGS = [...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean), MAIN];
  const procs = {
    service: await startProc(
      'service',
      MAIN_ARGS,
      base,
      { ...svcEnv, PORT: String(base), NODE_NAME: 'bench-hot' },
      logf('service'),
    ),
    serviceCold: await startProc(
      'service-cold',
      MAIN_ARGS,
      base + 1,
      {
        ...svcEnv,
        PORT: String(base + 1),
        NODE_NAME: 'bench-cold',
        CACHE_TTL_SECONDS: '1',
        CACHE_TTL_JITTER: '0',
      },
      logf('service-cold'),
    ),
    bare: await startProc('bare', [BASELINE, 'bare', String(base + 2)], base + 2, env, logf('bare')),
    naive: await startProc('naive', [BASELINE, 'naive', String(base + 3)], base + 3, env, logf('naive')),
    bareMysql: await startProc(
      'bare-mysql',
      [BASELINE, 'bare-mysql', String(base + 4)],
      base + 4,
      env,
      logf('bare-mysql'),
    ),
  };

  const hot = writePaths(path.join(work, 'hot-100.paths'), bulkPaths(idLists(1000, 100, 1, products, 1)));
  // The same lists, each product with its price and availability in de-EUR (products + price + stock).
  const composed = writePaths(
    path.join(work, 'composed-100.paths'),
    bulkPaths(idLists(1000, 100, 1, products, 1)).map((p) => `${p}&market=de-EUR&include=price,stock`),
  );
  const hot1 = writePaths(
    path.join(work, 'hot-1.paths'),
    idLists(1000, 1, 1, products, 2).map(([id]) => `/v1/products/${id}`),
  );
  const cold = writePaths(
    path.join(work, 'cold-100.paths'),
    bulkPaths(coldLists(100, COLD_START, coldProducts, 3)),
  );
  // bare-edge: HAProxy and Varnish with default settings in front of the bare route.
  const bareEdge = await startBareEdge(procs.bare.port, base + 7, base + 8, logf);
  const front: Proc = { name: 'front', port: Number(env.FRONT_PORT), pid: 0, child: undefined as never };

  const scenarios: Scenario[] = [
    { name: 'hot-100', proc: procs.service, paths: hot },
    { name: 'bare', proc: procs.bare, paths: hot },
    { name: 'naive', proc: procs.naive, paths: hot },
    { name: 'composed-100', proc: procs.service, paths: composed },
    { name: 'hot-1', proc: procs.service, paths: hot1 },
    { name: 'cold-100', proc: procs.serviceCold, paths: cold },
    { name: 'bare-mysql', proc: procs.bareMysql, paths: cold },
    { name: 'edge-hit-100', proc: front, paths: hot },
    { name: 'bare-edge', proc: bareEdge, paths: hot },
  ];

  const only = opts.only?.split(',');
  if (!opts['no-keyspace'] && (!only || only.some((n) => n.startsWith('hot-100@')))) {
    const redisPort = Number(env.REDIS_URL.split(':').pop()) + 50;
    const smallUrl = await keyspaceRedis(env, 'small', redisPort, keyspace.small, secrets.REDIS_PASSWORD);
    const largeUrl = await keyspaceRedis(env, 'large', redisPort + 1, keyspace.large, secrets.REDIS_PASSWORD);
    // One service per keyspace Redis, the same in every other way.
    const keyspaceService = (name: string, port: number, redisUrl: string) =>
      startProc(
        name,
        MAIN_ARGS,
        port,
        {
          ...svcEnv,
          PORT: String(port),
          REDIS_URL: redisUrl,
          REDIS_USERNAME: '',
          REDIS_PASSWORD: '',
          REDIS_SENTINELS: '',
          RELAY_ENABLED: 'false',
        },
        logf(name),
      );
    const small = await keyspaceService('service-small', base + 5, smallUrl);
    const large = await keyspaceService('service-large', base + 6, largeUrl);
    scenarios.push(
      {
        name: `hot-100@${keyspace.small}`,
        proc: small,
        paths: writePaths(
          path.join(work, 'ks-small.paths'),
          bulkPaths(idLists(1000, 100, 1, keyspace.small, 4)),
        ),
      },
      {
        name: `hot-100@${keyspace.large}`,
        proc: large,
        paths: writePaths(
          path.join(work, 'ks-large.paths'),
          bulkPaths(idLists(1000, 100, 1, keyspace.large, 4)),
        ),
      },
    );
  }

  if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => only.includes(s.name)));

  // Warm-up (not recorded): JIT compilation and connection pools would otherwise weigh on the first round.
  // The edge scenarios get 3 s even in a quick run: every URL must be in every Varnish before they count as
  // "all hits" (1 s left a third of the quick run's edge requests as misses).
  for (const s of scenarios)
    await runWrk(
      `http://127.0.0.1:${s.proc.port}`,
      s.paths,
      quick && GROUP_OF(s.name) !== 'edge-hit-100' ? 1 : 3,
      connections,
      s.headers,
    );

  const procsNow = servingProcesses(path.join(ROOT, '.stack', 'bench'));
  const results = new Map<
    string,
    Array<
      WrkResult & {
        cpuMsPerReq: number;
        machineMsPerReq: number;
        byProcess: Record<string, number>;
        gcMsPerReq: Record<string, number>;
      }
    >
  >();
  // The scenarios a target compares run back to back (a group), so each per-round ratio compares runs
  // seconds apart; the groups rotate every round, and inside a group the order flips every round
  // (A B, B A, ...) so neither side always runs first. Before each scenario the machine settles.
  const byGroup = new Map<string, Scenario[]>();
  for (const s of scenarios) byGroup.set(GROUP_OF(s.name), [...(byGroup.get(GROUP_OF(s.name)) ?? []), s]);
  const groups = [...byGroup.values()];
  for (let round = 1; round <= rounds; round++) {
    const order = groups
      .map((_, i) => groups[(i + round - 1) % groups.length])
      .flatMap((g) => (round % 2 === 0 ? [...g].reverse() : g));
    for (const s of order) {
      const waited = await settle();
      const cpu0 = s.proc.pid ? cpuSeconds(s.proc.pid) : NaN;
      const snap0 = cpuSnapshot(procsNow);
      const gc0 = s.proc.pid ? await gcSeconds(s.proc.port) : {};
      const busy0 = machineBusySeconds();
      const r = await runWrk(`http://127.0.0.1:${s.proc.port}`, s.paths, seconds, connections, s.headers);
      const perReq = (cpu: number) => (cpu * 1000) / Math.max(1, r.requests);
      const cpuMsPerReq = perReq(cpuSeconds(s.proc.pid) - cpu0);
      const machineMsPerReq = perReq(machineBusySeconds() - busy0);
      const gc1 = s.proc.pid ? await gcSeconds(s.proc.port) : {};
      const gcMsPerReq: Record<string, number> = {};
      for (const kind of Object.keys(gc1)) gcMsPerReq[kind] = perReq(gc1[kind] - (gc0[kind] ?? 0));
      const byProcess: Record<string, number> = {};
      for (const [name, cpu] of cpuSnapshot(procsNow)) {
        const ms = perReq(cpu - (snap0.get(name) ?? NaN));
        if (ms >= 0.001) byProcess[name] = ms;
      }
      results.set(s.name, [
        ...(results.get(s.name) ?? []),
        { ...r, cpuMsPerReq, machineMsPerReq, byProcess, gcMsPerReq },
      ]);
      log(
        `  round ${round} ${s.name.padEnd(18)} ${Math.round(r.requests / (r.duration_us / 1e6))
          .toString()
          .padStart(6)} req/s  p99 ${(r.p99_us / 1000).toFixed(1)} ms  (settled ${waited} ms before)`,
      );
    }
  }
  // One short counted pass per scenario under the same load: statuses, which tier answered, Varnish hits.
  const checks = new Map<string, WrkResult>();
  for (const s of scenarios)
    checks.set(
      s.name,
      await runWrk(`http://127.0.0.1:${s.proc.port}`, s.paths, quick ? 1 : 2, connections, s.headers, true),
    );
  const mixed =
    opts['no-mixed'] || only ? undefined : await mixedScenario(env, front.port, hot, quick ? 4 : seconds * 2);
  await stopAll();

  let imp: ImportResult | undefined;
  if (!opts['no-import'] && !only) {
    imp = await importScenario({ rows: importProducts, env, secrets, seed: SEED, work, log });
    // The import replaced the catalog: the next run seeds the bench data set again.
    const redis = adminRedis(env, secrets);
    await redis.del('bench:dataset').catch(() => 0);
    redis.disconnect();
  }

  const rows: Row[] = [...results].map(([name, rs]) => Row.of(name, rs, checks.get(name)));
  const get = (n: string) => rows.find((r) => r.name === n);
  const targets: Target[] = [
    Target.ratio('hot-100 >= 1.4 x bare', get('hot-100'), get('bare'), 1.4),
    Target.ratio('hot-100 >= 4 x naive', get('hot-100'), get('naive'), 4),
    Target.ratio('composed-100 >= 0.7 x hot-100', get('composed-100'), get('hot-100'), 0.7),
    Target.ratio('cold-100 >= 0.9 x bare-mysql', get('cold-100'), get('bare-mysql'), 0.9),
    Target.ratio(
      `hot-100 at ${keyspace.large} products >= 0.9 x at ${keyspace.small}`,
      get(`hot-100@${keyspace.large}`),
      get(`hot-100@${keyspace.small}`),
      0.9,
    ),
    Target.ratio('edge-hit-100 >= 0.9 x bare-edge', get('edge-hit-100'), get('bare-edge'), 0.9),
    imp
      ? Target.value('import >= 0.5 x load-data', imp.importRowsPerSec / imp.loadDataRowsPerSec, 0.5)
      : Target.plain('import >= 0.5 x load-data', undefined, 'skipped (--no-import)'),
  ];
  const meta = {
    date: new Date().toISOString(),
    quick,
    products,
    rounds,
    seconds,
    connections,
    node: process.version,
    cpus: execFileSync('nproc').toString().trim(),
  };
  const stamp = meta.date.replace(/[:.]/g, '-');
  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const md = renderReport(meta, rows, targets, imp, mixed);
  fs.writeFileSync(path.join(outDir, `${stamp}.md`), md);
  fs.writeFileSync(
    path.join(outDir, `${stamp}.json`),
    JSON.stringify({ meta, rows, targets, import: imp, mixed, raw: Object.fromEntries(results) }, null, 2),
  );
  log('\n' + md);
  log(`report: bench/results/${stamp}.md`);
}

async function startBareEdge(
  barePort: number,
  varnishPort: number,
  frontPort: number,
  logf: (n: string) => string,
): Promise<Proc> {
  const dir = path.join(work, 'bare-edge');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const render = (src: string, dst: string, vars: Record<string, number>) =>
    fs.writeFileSync(
      dst,
      Object.entries(vars).reduce(
        (t, [k, v]) => t.replaceAll(`@${k}@`, String(v)),
        fs.readFileSync(path.join(ROOT, 'bench/edge', src), 'utf8'),
      ),
    );
  render('bare.vcl', path.join(dir, 'bare.vcl'), { BACKEND_PORT: barePort });
  render('bare-haproxy.cfg', path.join(dir, 'haproxy.cfg'), {
    FRONT_PORT: frontPort,
    VARNISH_PORT: varnishPort,
  });
  await startCommand(
    'bare-varnish',
    'varnishd',
    [
      '-F',
      '-j',
      'none',
      '-n',
      path.join(dir, 'varnish'),
      '-a',
      `127.0.0.1:${varnishPort}`,
      '-T',
      'none',
      '-f',
      path.join(dir, 'bare.vcl'),
      '-s',
      'malloc,256m',
    ],
    varnishPort,
    {},
    logf('bare-varnish'),
  );
  return startCommand(
    'bare-edge',
    'haproxy',
    ['-db', '-f', path.join(dir, 'haproxy.cfg')],
    frontPort,
    {},
    logf('bare-edge-haproxy'),
  );
}

export interface MixedResult {
  seconds: number;
  /** wrk connections: readers + writers = the run's connections. */
  connections: { readers: number; writers: number };
  reads: { rps: number; p50ms: number; p99ms: number; errors: number };
  writes: WrkWriteResult & { rps: number };
  writeShare: number;
  purge: { count: number; meanMs: number; p99AtMostMs: number };
}

/** Purge delays recorded by every node (catalog_edge_purge_delay_seconds), as cumulative buckets. */
async function purgeHistogram(env: Record<string, string>): Promise<Map<number, number> & { sum?: number }> {
  const h = new Map<number, number>() as Map<number, number> & { sum?: number };
  h.sum = 0;
  for (const port of env.SERVICE_PORTS.split(',')) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    for (const m of text.matchAll(
      /^catalog_edge_purge_delay_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm,
    )) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      h.set(le, (h.get(le) ?? 0) + Number(m[2]));
    }
    const sum = /^catalog_edge_purge_delay_seconds_sum(?:\{[^}]*\})? (\S+)$/m.exec(text);
    h.sum += sum ? Number(sum[1]) : 0;
  }
  return h;
}

/** 95 % reads / 5 % writes through the whole stack: a reader wrk and a writer wrk side by side. */
async function mixedScenario(
  env: Record<string, string>,
  frontPort: number,
  hotPaths: string,
  seconds: number,
): Promise<MixedResult> {
  const url = `http://127.0.0.1:${frontPort}`;
  const auth = 'Bearer local-demo-write-key';
  const writers = 8;
  const run = (readers: number, s: number) =>
    Promise.all([
      runWrk(url, hotPaths, s, readers),
      runWrkWrites(url, { from: 1, count: products }, s, writers, auth),
    ]);
  const rps = (r: { requests: number; duration_us: number }) => r.requests / (r.duration_us / 1e6);
  // wrk cannot mix request types at a fixed rate, so connection counts set the share. Writes are slow (each
  // waits for two fsyncs in MySQL) and, once the readers saturate the machine, adding writer connections
  // mostly adds queueing (24 writers beside 32 readers: a 2 s probe said 4.6 %, the run got 2.5 % at 433 ms
  // write p50). So the writers stay at 8 and short probes lower the reader connections from 32 until the
  // share reaches 5 %; the count closest to 5 % is used. The report states the share the run got.
  const share = ([r, w]: [WrkResult, WrkWriteResult]) => rps(w) / (rps(r) + rps(w));
  let readers = connections;
  let best = Infinity;
  const probes: string[] = [];
  for (const n of [32, 24, 16, 12, 8, 6, 4, 3, 2, 1].filter((c) => c <= connections)) {
    const got = share(await run(n, quick ? 1 : 3));
    probes.push(`${n}: ${(got * 100).toFixed(1)} %`);
    if (Math.abs(got - 0.05) < best) [readers, best] = [n, Math.abs(got - 0.05)];
    if (got >= 0.05) break;
  }
  log(`  mixed probes (reader connections: write share): ${probes.join(', ')}`);
  log(`  mixed: ${readers} reader and ${writers} writer connections through the front for ${seconds} s`);
  const before = await purgeHistogram(env);
  const [reads, writes] = await run(readers, seconds);
  await new Promise((r) => setTimeout(r, 3_000)); // let the last purges land
  const after = await purgeHistogram(env);
  const les = [...after.keys()].sort((a, b) => a - b);
  const delta = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = delta(Infinity);
  const p99 = les.find((le) => delta(le) >= count * 0.99) ?? Infinity;
  const readRps = reads.requests / (reads.duration_us / 1e6);
  const writeRps = writes.requests / (writes.duration_us / 1e6);
  return {
    seconds,
    connections: { readers, writers },
    reads: {
      rps: readRps,
      p50ms: reads.p50_us / 1000,
      p99ms: reads.p99_us / 1000,
      errors: reads.connect_errors + reads.read_errors + reads.timeouts + reads.status_errors,
    },
    writes: { ...writes, rps: writeRps },
    writeShare: writeRps / (readRps + writeRps),
    purge: {
      count,
      meanMs: count ? (((after.sum ?? 0) - (before.sum ?? 0)) / count) * 1000 : NaN,
      p99AtMostMs: p99 * 1000,
    },
  };
}

// Ctrl-C or a kill stops what this run started (services, baselines, the bare edge) instead of orphaning it.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping the processes this run started\n`);
    void stopAll()
      .then(leaveStack)
      .finally(() => process.exit(130));
  });

main().then(
  // Exit even if a client somewhere still holds a socket open: the report is written.
  () => {
    leaveStack();
    process.exit(0);
  },
  async (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    await stopAll();
    leaveStack();
    process.exit(1);
  },
);
