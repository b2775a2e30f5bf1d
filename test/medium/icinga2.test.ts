import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { RedisInstance } from '../support/redis-instance';
import { redisAuth, ROOT, stackEnv, waitFor } from '../support/stack';

interface StateObject {
  name: string;
  type: string;
  update: {
    state_raw?: number;
    last_hard_state_raw?: number;
    last_check_result?: { state?: number; output?: string };
  };
}

/** icinga2.state is a sequence of netstrings ("<length>:<json>,"), one per object. */
function netstrings(text: string): string[] {
  const out: string[] = [];
  const buf = Buffer.from(text);
  for (let at = 0; at < buf.length;) {
    const colon = buf.indexOf(':', at);
    const len = Number(buf.subarray(at, colon).toString());
    out.push(buf.subarray(colon + 1, colon + 1 + len).toString());
    at = colon + 1 + len + 1;
  }
  return out;
}

/**
 * A real Icinga 2 daemon, as a non-standard instance (config, state, spool and logs in .stack/<name>/icinga2,
 * no system service), runs the project's CheckCommand and apply rule (infra/icinga2) against the test
 * stack's Redis and against a Redis filled to OOM. The states are read back from what Icinga recorded:
 * its PerfdataWriter's SERVICESTATE, and the state file it dumps when it stops.
 */
describe('Icinga 2 runs check_catalog_redis (infra/icinga2)', () => {
  const full = RedisInstance.forBasePort(26399);
  const dir = path.join(ROOT, '.stack', process.env.STACK_NAME ?? 'test', 'icinga2');
  let icinga: ChildProcess | undefined;
  let r: Redis;

  before(async () => {
    await full.start('16mb');
    r = full.client();
    // Nothing volatile, memory full: the next write fails with OOM.
    for (let batch = 0, oom = false; !oom && batch < 100; batch++) {
      const p = r.pipeline();
      for (let i = 0; i < 500; i++) p.set(`product:${batch * 500 + i}`, 'x'.repeat(1000));
      oom = ((await p.exec()) ?? []).some(([err]) => err !== null);
    }

    fs.rmSync(dir, { recursive: true, force: true });
    for (const sub of ['data', 'log', 'cache', 'spool', 'run', 'perfdata'])
      fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const stackPort = new URL(stackEnv().REDIS_URL).port;
    // The monitoring account of the stack's Redis (its default user is off).
    const monitor = redisAuth('exporter');
    const perf = (kind: string) =>
      `  ${kind}_perfdata_path = "${dir}/perfdata/${kind}-perfdata"\n  ${kind}_temp_path = "${dir}/perfdata/${kind}-perfdata.tmp"\n`;
    fs.writeFileSync(
      path.join(dir, 'icinga2.conf'),
      `include <itl>
include "${ROOT}/infra/icinga2/commands.conf"
include "${ROOT}/infra/icinga2/services.conf"
object CheckerComponent "checker" { }
object PerfdataWriter "perfdata" {
${perf('service')}${perf('host')}  rotation_interval = 1s
}
object Host "catalog-test" {
  check_command = "dummy"
  check_interval = 1s
  address = "127.0.0.1"
  vars.catalog_plugin_dir = "${ROOT}/bin"
  vars.catalog_redis["stack"] = { port = ${stackPort}, user = "${monitor.username}", password = "${monitor.password}", check_interval = 1s }
  vars.catalog_redis["full"] = { port = ${full.port}, check_interval = 1s }
}
`,
    );
    const user = process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root');
    const defines = {
      ConfigDir: dir,
      DataDir: `${dir}/data`,
      LogDir: `${dir}/log`,
      CacheDir: `${dir}/cache`,
      SpoolDir: `${dir}/spool`,
      InitRunDir: `${dir}/run`,
      RunAsUser: user,
      RunAsGroup: user,
    };
    const log = fs.openSync(path.join(dir, 'log', 'icinga2.out'), 'a');
    icinga = spawn(
      'icinga2',
      [
        'daemon',
        '-c',
        path.join(dir, 'icinga2.conf'),
        ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`),
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
  });

  after(async () => {
    await stopIcinga();
    r?.disconnect();
    await full.stop();
  });

  async function stopIcinga(): Promise<void> {
    const proc = icinga;
    icinga = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
  }

  /** The last SERVICESTATE each service got in the perfdata files Icinga wrote (rotated and current). */
  function recordedStates(): Map<string, { state: string; type: string; perf: string }> {
    const out = new Map<string, { state: string; type: string; perf: string; t: number }>();
    const files = fs.readdirSync(path.join(dir, 'perfdata')).filter((f) => f.startsWith('service-perfdata'));
    for (const file of files) {
      for (const line of fs.readFileSync(path.join(dir, 'perfdata', file), 'utf8').split('\n')) {
        if (!line) continue;
        const f = Object.fromEntries(line.split('\t').map((kv) => kv.split('::', 2) as [string, string]));
        const t = Number(f.TIMET);
        const prev = out.get(f.SERVICEDESC);
        if (!prev || prev.t <= t)
          out.set(f.SERVICEDESC, {
            state: f.SERVICESTATE,
            type: f.SERVICESTATETYPE,
            perf: f.SERVICEPERFDATA,
            t,
          });
      }
    }
    return out;
  }

  it('records OK for the test stack Redis and a hard CRITICAL for the Redis at OOM', async () => {
    const settled = () => {
      const s = recordedStates();
      return s.get('catalog-redis-full')?.type === 'HARD' && s.get('catalog-redis-stack') !== undefined;
    };
    // 3 check attempts at 1 s intervals, plus the daemon's start: a minute is far more than enough.
    await waitFor(() => Promise.resolve(settled()), 60_000, 500).catch(() => {
      throw new Error(`Icinga recorded ${JSON.stringify([...recordedStates()])}; see ${dir}/log/icinga2.out`);
    });
    const states = recordedStates();
    expect(states.get('catalog-redis-stack')).toMatchObject({ state: 'OK' });
    expect(states.get('catalog-redis-stack')!.perf).toMatch(/^bursts=\d+(\.\d+)?;2:;1:;0; write_room=\d+B;/);
    expect(states.get('catalog-redis-full')).toMatchObject({ state: 'CRITICAL', type: 'HARD' });
    expect(states.get('catalog-redis-full')!.perf).toMatch(/ evictable_memory=0B;;;0; /);

    // The state file Icinga dumps on shutdown holds the same states (0 OK, 2 CRITICAL).
    await stopIcinga();
    const objects = netstrings(fs.readFileSync(path.join(dir, 'data', 'icinga2.state'), 'utf8'))
      .map((text) => JSON.parse(text) as StateObject)
      .filter((o) => o.type === 'Service');
    const byName = Object.fromEntries(objects.map((o) => [o.name, o.update]));
    expect(byName['catalog-test!catalog-redis-stack']).toMatchObject({
      state_raw: 0,
      last_check_result: { state: 0 },
    });
    expect(byName['catalog-test!catalog-redis-full']).toMatchObject({ state_raw: 2, last_hard_state_raw: 2 });
    expect(byName['catalog-test!catalog-redis-full'].last_check_result?.output).toMatch(
      /^REDIS WRITE ROOM CRITICAL - room for 0/,
    );
  });
});
