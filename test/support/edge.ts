import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
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
    stats: `http://127.0.0.1:${env.FRONT_STATS_PORT}/;csv`,
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

/** HAProxy's view of each node in the `nodes` backend: node-1 -> UP / DOWN / ... */
export async function frontNodes(): Promise<Record<string, string>> {
  const csv = (await get(edge().stats)).body;
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
