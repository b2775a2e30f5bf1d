import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { ROOT, stackEnv, WRITE_KEY } from './stack';

/** Addresses of the edge tier of the stack that scripts/test.sh started. */
export function edge() {
  const env = stackEnv();
  const ports = (v: string) => v.split(',').map(Number);
  const [v1, v2] = ports(env.VARNISH_PORTS);
  const [s1, s2] = ports(env.SERVICE_PORTS);
  return {
    stackDir: env.STACK_DIR,
    front: `http://127.0.0.1:${env.FRONT_PORT}`,
    frontPort: Number(env.FRONT_PORT),
    /** keepalived's /healthz and HAProxy's /metrics; the stats page itself is on statsSocket only. */
    monitor: `http://127.0.0.1:${env.FRONT_STATS_PORT}`,
    statsSocket: path.join(env.STACK_DIR, 'front-haproxy', 'front-stats.sock'),
    varnish: [`http://127.0.0.1:${v1}`, `http://127.0.0.1:${v2}`],
    service: [`http://127.0.0.1:${s1}`, `http://127.0.0.1:${s2}`],
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
  ms: number;
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const t0 = performance.now();
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, ms: performance.now() - t0 };
}

/** The product's version in a 200 body, or null. */
export function versionIn(r: Reply): number | null {
  if (r.status !== 200) return null;
  return (JSON.parse(r.body) as { version: number }).version;
}

export async function put(base: string, id: number, body: unknown): Promise<Reply> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/products/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${WRITE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text, ms: performance.now() - t0 };
}

export async function purge(varnish: string, tags: string, soft = false): Promise<Reply> {
  const res = await fetch(`${varnish}/`, {
    method: 'PURGE',
    headers: soft ? { xkey: tags, 'xkey-soft': '1' } : { xkey: tags },
  });
  return { status: res.status, headers: res.headers, body: await res.text(), ms: 0 };
}

/**
 * Drops every copy tagged with any of `tags` from every node's Varnish (a hard purge), so the next read of
 * them is a miss. Reads take no unknown query parameters (400), so a test cannot bust the cache with one.
 */
export async function evict(...tags: string[]): Promise<void> {
  for (const v of edge().varnish) {
    const res = await fetch(`${v}/`, {
      method: 'PURGE',
      headers: { xkey: tags.join(' '), 'xkey-hard': '1' },
    });
    if (res.status !== 200) throw new Error(`purge of ${tags.join(' ')} at ${v}: ${res.status}`);
  }
}

/** HAProxy's view of each node in the `nodes` backend: node-1 -> UP / DOWN / ... */
export async function frontNodes(): Promise<Record<string, string>> {
  const csv = (await raw(edge().statsSocket, { path: '/;csv' })).body;
  const out: Record<string, string> = {};
  for (const line of csv.split('\n')) {
    const f = line.split(',');
    if (f[0] === 'nodes' && f[1]?.startsWith('node-')) out[f[1]] = f[17];
  }
  return out;
}

function pidOf(name: string): number {
  const file = path.join(edge().stackDir, 'pids', `${name}.pid`);
  return Number(fs.readFileSync(file, 'utf8').trim());
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Signals a process of THIS test stack, found by its pid file, after checking the pid still runs what the
 * stack started (service node or varnishd); resolves once it is gone.
 */
export async function stopComponent(name: string, signal: NodeJS.Signals): Promise<number> {
  const pid = pidOf(name);
  const dir = edge().stackDir;
  const read = (f: string) => fs.readFileSync(`/proc/${pid}/${f}`, 'utf8').replace(/\0/g, ' ');
  const ours = name.startsWith('varnish-')
    ? read('cmdline').includes(`varnishd -F -j none -n ${dir}/${name}/`)
    : read('cmdline').includes('catalog-service/src/main.js') &&
      (read('environ') + ' ').includes(`LOG_DIR=${dir}/logs/${name} `);
  if (!ours) throw new Error(`pid ${pid} from ${name}.pid is not this stack's ${name}`);
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`${name} (pid ${pid}) did not stop`);
    await sleep(20);
  }
  return pid;
}

/**
 * scripts/stack.sh start: starts whatever of the test stack is not running (idempotent). Asynchronous, so
 * pollers keep running meanwhile (a blocked event loop would also keep idle keep-alive sockets past the
 * server's timeout).
 */
export function startStack(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'scripts/stack.sh'), ['start'], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`stack.sh start failed (${code}):\n${out}`));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Figures the tests measured, printed at the end of the run and kept in test-artifacts/edge-figures.json. */
export function report(name: string, figures: Record<string, unknown>): void {
  const dir = path.join(ROOT, 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'edge-figures.json');
  const all = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>)
    : {};
  all[name] = { ...figures, measuredAt: new Date().toISOString() };
  fs.writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  console.log(`[figures] ${name}: ${JSON.stringify(figures)}`);
}

export interface RawRequest {
  method?: string;
  /** Sent exactly as given (no URL normalisation, unlike fetch). */
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Source address of the connection (127.0.0.0/8 all reach a 127.0.0.1 listener). */
  localAddress?: string;
}

/**
 * One HTTP/1.1 request on its own connection, to `http://host:port` or a unix socket path. Resolves with the
 * answer even when the server answers before reading the whole body (and then closes on it).
 */
export function raw(target: string, r: RawRequest): Promise<Reply> {
  const t0 = performance.now();
  const where = target.startsWith('http')
    ? { host: new URL(target).hostname, port: Number(new URL(target).port) }
    : { socketPath: target };
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        ...where,
        method: r.method ?? 'GET',
        path: r.path,
        headers: r.headers,
        localAddress: r.localAddress,
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        const done = () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString(),
            ms: performance.now() - t0,
          });
        };
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${r.method ?? 'GET'} ${r.path}`)));
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const expectsContinue =
      String(r.headers?.expect ?? r.headers?.Expect ?? '').toLowerCase() === '100-continue';
    if (expectsContinue) req.on('continue', () => req.end(r.body));
    else req.end(r.body);
  });
}

/**
 * A request with a large body sent by curl, which reads the answer while it is still sending: a hop that
 * answers 413 before reading the body and then closes is seen as HTTP clients that do so see it (Node's
 * client drops what it has read once a write fails). Without expectContinue the body goes at once.
 */
export function curlUpload(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer,
  expectContinue = false,
): { status: number; contentType: string; body: string } {
  const args = [
    '-s',
    '-X',
    method,
    '-H',
    expectContinue ? 'Expect: 100-continue' : 'Expect:',
    '--data-binary',
    '@-',
    '-o',
    '-',
    '-w',
    '\n%{http_code} %{content_type}',
  ];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const r = spawnSync('curl', [...args, url], { input: body, encoding: 'utf8', maxBuffer: 1 << 20 });
  const out = r.stdout;
  const cut = out.lastIndexOf('\n');
  const [status, contentType] = out.slice(cut + 1).split(' ');
  return { status: Number(status), contentType: contentType ?? '', body: out.slice(0, cut) };
}

/**
 * A private front HAProxy rendered from infra/haproxy/front.cfg.tmpl with its own limits and nodes, on this
 * stack's test ports (28170/28171 + offset, see scripts/lib/stack-edge.sh); stopped by stop().
 */
export async function privateFront(opts: {
  rateLimitAddress: number;
  rateLimitKey: number;
  varnish?: [string, string];
}): Promise<{ url: string; stop: () => Promise<void> }> {
  const e = edge();
  const offset = e.frontPort - 28080;
  const port = 28170 + offset;
  const dir = path.join(e.stackDir, 'front-test');
  fs.mkdirSync(dir, { recursive: true });
  const v = opts.varnish ?? e.varnish.map((u) => u.replace('http://', ''));
  const values: Record<string, string> = {
    STATE_DIR: dir,
    LUA_DIR: path.join(ROOT, 'infra/haproxy'),
    BIND_ADDR: '127.0.0.1',
    FRONT_PORT: String(port),
    STATS_PORT: String(port + 1),
    VARNISH_1_ADDR: v[0],
    VARNISH_2_ADDR: v[1],
    RATE_LIMIT_KEY: String(opts.rateLimitKey),
    RATE_LIMIT_ADDRESS: String(opts.rateLimitAddress),
  };
  const cfg = fs
    .readFileSync(path.join(ROOT, 'infra/haproxy/front.cfg.tmpl'), 'utf8')
    .replace(/@([A-Z0-9_]+)@/g, (m, k: string) => values[k] ?? m);
  if (/@[A-Z_][A-Z0-9_]*@/.test(cfg)) throw new Error('unrendered placeholder in front.cfg.tmpl');
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), cfg);
  for (const f of ['front-haproxy.sock', 'front-stats.sock']) fs.rmSync(path.join(dir, f), { force: true });
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], {
    stdio: ['ignore', fs.openSync(path.join(dir, 'haproxy.log'), 'w'), 'inherit'],
  });
  const stop = stopper(child);
  await listening(port, child, 10_000, stop, `private front HAProxy did not start; see ${dir}/haproxy.log`);
  return { url: `http://127.0.0.1:${port}`, stop };
}

/**
 * A private Varnish rendered from infra/varnish/catalog.vcl.tmpl with its backend on `servicePort` (a stand-in
 * for the service that a test controls), started with the stack's parameters (scripts/lib/stack-edge.sh) on
 * this stack's test ports (28172 API, 28173 admin + offset); stopped by stop().
 */
export async function privateVarnish(
  servicePort: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const e = edge();
  const offset = e.frontPort - 28080;
  const port = 28172 + offset;
  const dir = path.join(e.stackDir, 'varnish-test');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const values: Record<string, string> = {
    SERVICE_HOST: '127.0.0.1',
    SERVICE_PORT: String(servicePort),
    NODE_NAME: 'node-test',
  };
  const vcl = fs
    .readFileSync(path.join(ROOT, 'infra/varnish/catalog.vcl.tmpl'), 'utf8')
    .replace(/@([A-Z0-9_]+)@/g, (m, k: string) => values[k] ?? m);
  if (/@[A-Z_][A-Z0-9_]*@/.test(vcl)) throw new Error('unrendered placeholder in catalog.vcl.tmpl');
  fs.writeFileSync(path.join(dir, 'catalog.vcl'), vcl);
  const log = fs.openSync(path.join(dir, 'varnishd.log'), 'w');
  const child: ChildProcess = spawn(
    'varnishd',
    [
      '-F',
      '-j',
      'none',
      '-n',
      path.join(dir, 'work'),
      '-i',
      'node-test',
      '-a',
      `127.0.0.1:${port}`,
      '-T',
      `127.0.0.1:${port + 1}`,
      '-f',
      path.join(dir, 'catalog.vcl'),
      '-s',
      'malloc,16m',
      '-p',
      'backend_idle_timeout=60',
      '-p',
      'timeout_idle=60',
      '-p',
      'http_resp_hdr_len=16k',
      '-p',
      'http_resp_size=48k',
    ],
    { stdio: ['ignore', log, log] },
  );
  const stop = stopper(child);
  await listening(port, child, 20_000, stop, `private Varnish did not start; see ${dir}/varnishd.log`);
  return { url: `http://127.0.0.1:${port}`, stop };
}

/** Stops a private process a test started (SIGTERM) and resolves once it has exited. */
function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      while (child.exitCode === null && child.signalCode === null) await sleep(20);
    }
  };
}

/** Waits until `port` accepts connections; stops the child and throws `failure` when it exits or time runs out. */
async function listening(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  stop: () => Promise<void>,
  failure: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(failure);
    }
    await sleep(50);
  }
}
