import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, stackEnv } from './stack';

const run = promisify(execFile);

function stackDir(): string {
  return stackEnv().STACK_DIR ?? path.join(ROOT, '.stack', process.env.STACK_NAME ?? 'test');
}

/** scripts/stack.sh with this test stack's name and offset. */
export async function stackSh(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(ROOT, 'scripts/stack.sh'), args, {
    env: { ...process.env, STACK_NAME: process.env.STACK_NAME ?? 'test' },
    timeout: 120_000,
  });
  return stdout;
}

/** SQL as root over the server's own socket (the stack's my.cnf), one statement batch. */
export async function rootSql(server: 'a' | 'b', sql: string): Promise<string> {
  const { stdout } = await run(
    'mariadb',
    [`--defaults-file=${path.join(stackDir(), `mariadb-${server}`, 'my.cnf')}`, '-N', '-B', '-e', sql],
    { timeout: 30_000 },
  );
  return stdout.trim();
}

/** One command on the DB HAProxy's admin socket. */
export function haproxyDb(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(path.join(stackDir(), 'haproxy-db', 'haproxy-db.sock'));
    let out = '';
    c.on('data', (d) => (out += String(d)));
    c.on('end', () => resolve(out));
    c.on('error', reject);
    c.end(command + '\n');
  });
}

/** What a master's writer agent answers HAProxy right now. */
export function agentVerdict(server: 'a' | 'b'): Promise<string> {
  const env = stackEnv();
  const port = Number(server === 'a' ? env.MYSQL_A_PORT : env.MYSQL_B_PORT) + 13;
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let out = '';
    c.on('data', (d) => (out += String(d)));
    c.on('end', () => resolve(out.trim()));
    c.on('error', reject);
  });
}

/** The pid the stack recorded for one of its processes. */
export async function stackPid(name: string): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  return Number((await readFile(path.join(stackDir(), 'pids', `${name}.pid`), 'utf8')).trim());
}

/** The files the stack saved a re-cloned master's errant transactions to (scripts/stack.sh), oldest first. */
export async function savedErrant(server: 'a' | 'b' = 'a'): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const logs = path.join(stackDir(), 'logs');
  return (await readdir(logs))
    .filter((f) => f.startsWith(`mariadb-${server}-errant-`))
    .sort()
    .map((f) => path.join(logs, f));
}
