import * as http from 'node:http';
/**
 * The chaos stack: started and healed with scripts/stack.sh, faults injected only through the pid files it
 * records under .stack/<name>/pids/, and the health probes the experiments judge recovery by.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import Redis from 'ioredis';
import * as mysql from 'mysql2/promise';
import { readEnvFile } from '@app/config';

export const ROOT = path.resolve(__dirname, '../../..');

export interface StackOptions {
  name: string;
  offset: number;
  products: number;
}

export type Env = Record<string, string>;

export class Stack {
  readonly dir: string;
  env: Env = {};

  constructor(readonly opts: StackOptions) {
    this.dir = path.join(ROOT, '.stack', opts.name);
  }

  private shellEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      STACK_NAME: this.opts.name,
      STACK_PORT_OFFSET: String(this.opts.offset),
      SERVICE_NODES: '2',
      SEED_PRODUCTS: String(this.opts.products),
      LOG_LEVEL: 'info',
      // a writer agent (node) can take longer than the 10 s default to listen on a busy machine
      HAPROXY_START_TIMEOUT: process.env.HAPROXY_START_TIMEOUT ?? '60',
    };
  }

  /**
   * scripts/stack.sh with the stack's settings, asynchronously (the load keeps running meanwhile); output goes
   * to .stack/<name>/chaos/stack.log. `start` starts whatever is missing, so it is also the heal.
   */
  sh(args: string[], timeoutMs = 600_000): Promise<{ code: number; ms: number; tail: string }> {
    const logDir = path.join(this.dir, 'chaos');
    fs.mkdirSync(logDir, { recursive: true });
    const logFile = path.join(logDir, 'stack.log');
    const t0 = Date.now();
    return new Promise((resolve) => {
      const out: string[] = [];
      const child = spawn(path.join(ROOT, 'scripts/stack.sh'), args, {
        cwd: ROOT,
        env: this.shellEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (b: Buffer) => {
        out.push(b.toString());
        fs.appendFileSync(logFile, b);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        const tail =
          (timedOut ? `timed out after ${timeoutMs / 1000} s | ` : '') +
          out.join('').trim().split('\n').slice(-3).join(' | ');
        resolve({ code: code ?? 1, ms: Date.now() - t0, tail });
      });
    });
  }

  /** env.json, plus the stack's secrets.env: chaos acts as the operator (Redis admin) to inject faults. */
  loadEnv(): Env {
    this.env = {
      ...(JSON.parse(fs.readFileSync(path.join(this.dir, 'env.json'), 'utf8')) as Env),
      ...readEnvFile(path.join(this.dir, 'secrets.env')),
    };
    return this.env;
  }

  get frontPort(): number {
    return Number(this.env.FRONT_PORT);
  }
  get frontStatsPort(): number {
    return Number(this.env.FRONT_STATS_PORT);
  }
  get servicePorts(): number[] {
    return this.env.SERVICE_PORTS.split(',').map(Number);
  }
  get varnishPorts(): number[] {
    return this.env.VARNISH_PORTS.split(',').map(Number);
  }
  get redisPorts(): Record<string, number> {
    const port = (url: string) => Number(url.split(':').pop());
    return { 'redis-primary': port(this.env.REDIS_URL), 'redis-replica': port(this.env.REDIS_REPLICA_URL) };
  }
  /** Every Sentinel the stack runs (REDIS_SENTINELS "host:port,..." when it has several). */
  get sentinelPorts(): number[] {
    const list = this.env.REDIS_SENTINELS ?? this.env.REDIS_SENTINEL_PORTS;
    if (list) return list.split(',').map((s) => Number(s.split(':').pop()));
    return [Number(this.env.REDIS_SENTINEL_PORT)];
  }

  // ------------------------------------------------------------------ pids --

  /** The recorded pid of a component if that process still is the one the stack started (stamp check). */
  pid(name: string): number | undefined {
    const dir = path.join(this.dir, 'pids');
    try {
      const pid = Number(
        fs
          .readFileSync(path.join(dir, `${name}.pid`), 'utf8')
          .trim()
          .split(/\s+/)[0],
      );
      if (!pid) return undefined;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
      const stampFile = path.join(dir, `${name}.stamp`);
      if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8').trim() !== fields[19])
        return undefined;
      return pid;
    } catch {
      return undefined;
    }
  }

  pidNames(): string[] {
    const dir = path.join(this.dir, 'pids');
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => f.slice(0, -4));
  }

  /** Sends a signal to a component by its pid file; throws when it is not running. */
  signal(name: string, sig: NodeJS.Signals): number {
    const pid = this.pid(name);
    if (!pid) throw new Error(`${name} is not running (no live pid in ${this.dir}/pids)`);
    process.kill(pid, sig);
    return pid;
  }

  async waitGone(name: string, pid: number, ms = 30_000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.pid(name) !== pid) return true;
      await sleep(100);
    }
    return false;
  }

  // ----------------------------------------------------------------- Redis --

  redis(port: number): Redis {
    return new Redis({
      host: '127.0.0.1',
      port,
      username: this.env.REDIS_ADMIN_USER,
      password: this.env.REDIS_ADMIN_PASSWORD,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
      commandTimeout: 5000,
    });
  }

  async withRedis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = this.redis(port);
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  async redisRole(port: number): Promise<string | undefined> {
    try {
      const info = await this.withRedis(port, (r) => r.info('replication'));
      return /^role:(\w+)/m.exec(info)?.[1];
    } catch {
      return undefined;
    }
  }

  /** The port of the Redis primary Sentinel names (and that says it is primary), or undefined. */
  async redisPrimaryPort(): Promise<number | undefined> {
    for (const sp of this.sentinelPorts) {
      try {
        const addr = (await this.withRedis(sp, (r) =>
          r.call('SENTINEL', 'get-master-addr-by-name', 'catalog'),
        )) as string[] | null;
        const port = Number(addr?.[1]);
        if (port && (await this.redisRole(port)) === 'master') return port;
      } catch {
        /* the next Sentinel */
      }
    }
    return undefined;
  }

  redisNameOf(port: number): string {
    return Object.entries(this.redisPorts).find(([, p]) => p === port)?.[0] ?? `redis:${port}`;
  }

  // ----------------------------------------------------------------- MariaDB --

  mysql(
    port: number,
    user = this.env.MYSQL_USER,
    password = this.env.MYSQL_PASSWORD,
  ): Promise<mysql.Connection> {
    return mysql.createConnection({
      host: '127.0.0.1',
      port,
      user,
      password,
      database: user === this.env.MYSQL_USER ? this.env.MYSQL_DATABASE : undefined,
      connectTimeout: 3000,
    });
  }

  async withMysql<T>(
    port: number,
    fn: (c: mysql.Connection) => Promise<T>,
    as: 'app' | 'monitor' = 'app',
  ): Promise<T> {
    const c =
      as === 'app'
        ? await this.mysql(port)
        : await this.mysql(port, this.env.MYSQL_MONITOR_USER, this.env.MYSQL_MONITOR_PASSWORD);
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  /** SQL as root over a master's own socket (the stack's my.cnf): for faults no service account may make. */
  rootSql(x: 'a' | 'b', sql: string): Promise<string> {
    const cnf = path.join(this.dir, `mariadb-${x}`, 'my.cnf');
    return new Promise((resolve, reject) => {
      execFile(
        'mariadb',
        [`--defaults-file=${cnf}`, '-N', '-B', '-e', sql],
        { timeout: 30_000 },
        (err, out) => {
          if (err) reject(new Error(`mariadb-${x}: ${err.message}`));
          else resolve(out.trim());
        },
      );
    });
  }

  /** Files the stack saved a re-cloned master's errant transactions to (scripts/stack.sh), newest last. */
  errantSaved(x: 'a' | 'b'): string[] {
    const logs = path.join(this.dir, 'logs');
    if (!fs.existsSync(logs)) return [];
    return fs
      .readdirSync(logs)
      .filter((f) => f.startsWith(`mariadb-${x}-errant-`))
      .sort();
  }

  get mariadbPorts(): Record<'a' | 'b', number> {
    return { a: Number(this.env.MYSQL_A_PORT), b: Number(this.env.MYSQL_B_PORT) };
  }

  /** Which master the DB HAProxy's writer endpoint reaches right now ('a' or 'b'), by its server_id. */
  async currentWriter(): Promise<'a' | 'b' | undefined> {
    try {
      const id = await this.withMysql(Number(this.env.MYSQL_WRITER_PORT), async (c) => {
        const [rows] = await c.query('SELECT @@server_id AS id');
        return Number((rows as Array<{ id: number }>)[0].id);
      });
      return id === 1 ? 'a' : id === 2 ? 'b' : undefined;
    } catch {
      return undefined;
    }
  }

  async replication(x: 'a' | 'b'): Promise<Replication> {
    try {
      return await this.withMysql(
        this.mariadbPorts[x],
        async (c) => {
          const [rows] = await c.query('SHOW SLAVE STATUS');
          const r = (rows as Array<Record<string, unknown>>)[0];
          if (!r) return { io: 'none', sql: 'none', error: 'replication not configured' };
          const err = [r.Last_IO_Error, r.Last_SQL_Error].filter((e) => e).join('; ');
          return {
            io: String(r.Slave_IO_Running),
            sql: String(r.Slave_SQL_Running),
            error: err || undefined,
            lag: r.Seconds_Behind_Master === null ? undefined : Number(r.Seconds_Behind_Master),
          };
        },
        'monitor',
      );
    } catch (e) {
      return { io: '?', sql: '?', error: `cannot query: ${(e as Error).message}` };
    }
  }

  async checksum(x: 'a' | 'b'): Promise<string | undefined> {
    try {
      return await this.withMysql(this.mariadbPorts[x], async (c) => {
        const [rows] = await c.query('CHECKSUM TABLE products');
        return String((rows as Array<{ Checksum: unknown }>)[0].Checksum);
      });
    } catch {
      return undefined;
    }
  }

  // ------------------------------------------------------------------ edge --

  /** Status of each node-* server in the front HAProxy's stats CSV (UP, DOWN, ...), or undefined. */
  /** One command on the DB HAProxy's admin socket (the one `scripts/stack.sh writer` uses). */
  dbAdmin(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const c = net.connect(path.join(this.dir, 'haproxy-db', 'haproxy-db.sock'));
      let out = '';
      c.on('data', (d) => (out += String(d)));
      c.on('end', () => resolve(out.trim()));
      c.on('error', reject);
      c.end(cmd + '\n');
    });
  }

  /** The front HAProxy's request log (scripts/lib/stack-edge.sh: its stdout, one line per request). */
  get frontLogPath(): string {
    return path.join(this.dir, 'logs', 'front-haproxy.log');
  }

  /** Where the front's log ends now: a mark for frontLogSince. */
  frontLogMark(): { size: number; ino: number } {
    try {
      const st = fs.statSync(this.frontLogPath);
      return { size: st.size, ino: st.ino };
    } catch {
      return { size: 0, ino: 0 };
    }
  }

  /**
   * What the front logged since `mark`. A restarted front HAProxy starts a new log and keeps the old one as
   * .1 (start_fresh_log in scripts/lib/stack-common.sh): then the rest of the old one and all of the new.
   */
  frontLogSince(mark: { size: number; ino: number }): string {
    const tail = (file: string, from: number) => {
      try {
        const fd = fs.openSync(file, 'r');
        try {
          const size = fs.fstatSync(fd).size;
          const buf = Buffer.alloc(Math.max(0, size - from));
          fs.readSync(fd, buf, 0, buf.length, from);
          return buf.toString('utf8');
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        return '';
      }
    };
    const now = this.frontLogMark();
    if (now.ino === mark.ino) return tail(this.frontLogPath, mark.size);
    return tail(this.frontLogPath + '.1', mark.size) + tail(this.frontLogPath, 0);
  }

  async frontNodes(): Promise<Record<string, string> | undefined> {
    // The front's stats page is only on a unix socket (infra/haproxy/front.cfg.tmpl).
    const csv = await unixText(path.join(this.dir, 'front-haproxy', 'front-stats.sock'), '/;csv', 2000);
    if (!csv) return undefined;
    const out: Record<string, string> = {};
    for (const line of csv.split('\n')) {
      const f = line.split(',');
      if (f[0] === 'nodes' && /^node-/.test(f[1])) out[f[1]] = f[17];
    }
    return out;
  }

  async ready(port: number): Promise<boolean> {
    return (await httpStatus(port, '/health/ready', 2000)) === 200;
  }
}

export interface Replication {
  io: string;
  sql: string;
  error?: string;
  lag?: number;
}

export const replicationOk = (r: Replication) => r.io === 'Yes' && r.sql === 'Yes' && !r.error;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function unixText(socketPath: string, p: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: p, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function httpStatus(port: number, p: string, timeoutMs: number): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}
