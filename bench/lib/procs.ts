import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards), or null when it is gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / TICKS : NaN;
}

/** The same plus the children it has waited for (Redis's AOF rewrites, say). */
function cpuWithChildren(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS : NaN;
}

/** Running children of a process (Varnish's cache process under its manager). */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(statFields(Number(entry))?.[1]) === pid)
    .map(Number);
}

/**
 * Every process that serves a scenario: the stack's recorded ones (pids/*.pid) with their children, and the
 * ones this run started. CPU per process per request shows where a ratio comes from.
 */
export function servingProcesses(stackDir: string): Map<string, number> {
  const procs = new Map<string, number>();
  const dir = `${stackDir}/pids`;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.pid'))) {
    const pid = Number(fs.readFileSync(`${dir}/${file}`, 'utf8').trim().split(/\s+/)[0]);
    if (!pid || !fs.existsSync(`/proc/${pid}`)) continue;
    const name = file.slice(0, -4);
    procs.set(name, pid);
    for (const child of childrenOf(pid)) procs.set(`${name}/child`, child);
  }
  for (const p of started) {
    if (p.child.exitCode !== null) continue;
    procs.set(p.name, p.pid);
    for (const child of childrenOf(p.pid)) procs.set(`${p.name}/child`, child);
  }
  return procs;
}

export function cpuSnapshot(procs: Map<string, number>): Map<string, number> {
  return new Map([...procs].map(([name, pid]) => [name, cpuWithChildren(pid)]));
}

/** CPU seconds the whole machine has spent busy (all cores, everything but idle and iowait), from /proc/stat. */
export function machineBusySeconds(): number {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const t = f.map(Number);
  // user nice system idle iowait irq softirq steal
  return (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) / TICKS;
}

/**
 * Waits until the machine is quiet (under `maxBusy` cores busy over a 250 ms window), at most `maxMs`: what
 * one scenario leaves behind (Redis expiring a cold run's backfills, an AOF rewrite, sockets closing) must
 * not be billed to the next. Returns how long it waited.
 */
export async function settle(maxBusy = 0.3, maxMs = 5_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const b0 = machineBusySeconds();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 250));
    const cores = (machineBusySeconds() - b0) / (Number(process.hrtime.bigint() - t0) / 1e9);
    if (cores < maxBusy || Date.now() - start >= maxMs) return Date.now() - start;
  }
}

export interface Proc {
  name: string;
  port: number;
  child: ChildProcess;
  pid: number;
}

const started: Proc[] = [];

export function startProc(
  name: string,
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<Proc> {
  return startCommand(name, process.execPath, args, port, env, logFile);
}

/** Any command (node, varnishd, haproxy), ready when GET /health/ready through it answers 200. */
export async function startCommand(
  name: string,
  command: string,
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<Proc> {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  const proc = { name, port, child, pid: child.pid! };
  started.push(proc);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${logFile}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return proc;
    if (Date.now() > deadline) throw new Error(`${name} not ready on :${port} within 30 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    started.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGTERM');
          setTimeout(() => p.child.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}
