/**
 * The experiments of `npm run chaos`: each injects one fault through the stack's pid files (or a Redis
 * command), holds it, and heals it; run.ts wraps each in the same steady load, recovery probe and ledger
 * check. Targets beyond the common data-safety ones are declared here, next to the fault they judge.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, doneAt, Load, Sample, WRITE_KEY } from './load';
import { frontActiveTimes } from './truncation';
import { sleep, Stack } from './stack';

export type TargetKind = 'safety' | 'availability' | 'performance';

export interface Target {
  name: string;
  kind: TargetKind;
  pass: boolean;
  value: string;
}

export interface Phases {
  beforeS: number;
  faultS: number;
  afterS: number;
}

/** What an experiment sees while it runs; `undo` entries restore a fault if the run is interrupted. */
export interface Ctx {
  stack: Stack;
  load: Load;
  quick: boolean;
  phases: Phases;
  now: () => number;
  note: (s: string) => void;
  undo: Map<string, () => Promise<void>>;
  /** anything an experiment wants in its report */
  facts: Record<string, unknown>;
  readPathsFile: string;
  /** wall-clock ms at the experiment's start (ctx.now() counts from it) */
  t0: number;
  /** where the front HAProxy's log stood at the experiment's start (stack.frontLogSince) */
  frontMark: { size: number; ino: number };
}

export interface Experiment {
  name: string;
  title: string;
  /** part of --quick */
  quick?: boolean;
  phases?: Partial<Phases>;
  /** check the staleness bound also at the end of the fault, before the heal (faults that leave reads up) */
  checkDuring?: boolean;
  /** extra load during the whole experiment */
  creates?: { rate: number; connections: number };
  /** a reason when the fault cannot be made here (the experiment is then reported as skipped) */
  impossible?: (ctx: Ctx) => Promise<string | undefined>;
  inject: (ctx: Ctx) => Promise<string> | string;
  /** default: hold the fault for phases.faultS */
  hold?: (ctx: Ctx) => Promise<void>;
  heal: (ctx: Ctx) => Promise<string> | string;
  targets?: (ctx: Ctx, r: Windows) => Target[] | Promise<Target[]>;
}

export interface Windows {
  tFault: number;
  tHeal: number;
  tEnd: number;
  samples: Sample[];
}

/** A failure: no answer, a 5xx or 429, a body cut short (whatever its status), and for writes any non-2xx. */
const failed = (s: Sample) =>
  s.status === 0 ||
  s.status >= 500 ||
  s.status === 429 ||
  s.truncated !== undefined ||
  (s.kind !== 'read' && s.status >= 300);
const inWindow = (s: Sample, from: number, to: number) => doneAt(s) >= from && doneAt(s) < to;

async function restart(ctx: Ctx): Promise<string> {
  const r = await ctx.stack.sh(['start']);
  if (r.code !== 0) ctx.note(`scripts/stack.sh start failed (exit ${r.code}): ${r.tail}`);
  return `scripts/stack.sh start (restarts what is missing): exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s`;
}

/** PUTs to 5 hot ids (900001-900005, outside the ledger) on 8 connections through the front, for `ms`. */
async function hotWrites(ctx: Ctx, ms: number): Promise<Record<string, number>> {
  const client = new Client(ctx.stack.frontPort, 8);
  const end = Date.now() + ms;
  const counts: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: 8 }, async (_, k) => {
      for (let n = 0; Date.now() < end; n++) {
        const id = 900_001 + ((n + k) % 5);
        const a = await client.request('PUT', `/v1/products/${id}`, {
          body: JSON.stringify({ sku: `CHAOS-HOT-${id}`, status: 'active', name: { en: `hot ${k} ${n}` } }),
          headers: { authorization: WRITE_KEY },
          timeoutMs: 15_000,
        });
        counts[a.status] = (counts[a.status] ?? 0) + 1;
        if (a.status === 0 || a.status >= 500) await sleep(100);
      }
    }),
  );
  client.agent.destroy();
  return counts;
}

/**
 * Samples each master's own GTID domain (gtid_domain_id = server_id: 1 on A, 2 on B) on that master every
 * 100 ms for `ms`, and counts the intervals in which both advanced: both masters committing writes of
 * their own at the same time, the split itself, whether or not the writes happened to collide.
 */
async function bothMastersCommitting(
  ctx: Ctx,
  ms: number,
): Promise<{ intervals: number; overlapping: number }> {
  const own = async (x: 'a' | 'b', domain: number): Promise<bigint | null> => {
    try {
      return await ctx.stack.withMysql(
        ctx.stack.mariadbPorts[x],
        async (c) => {
          const [rows] = await c.query("SHOW GLOBAL VARIABLES LIKE 'gtid_binlog_pos'");
          const pos = (rows as Array<{ Value?: string }>)[0]?.Value ?? '';
          const m = new RegExp(`(?:^|,)${domain}-\\d+-(\\d+)`).exec(pos);
          return m ? BigInt(m[1]) : 0n;
        },
        'monitor',
      );
    } catch {
      return null;
    }
  };
  const end = Date.now() + ms;
  let prev = await Promise.all([own('a', 1), own('b', 2)]);
  let intervals = 0;
  let overlapping = 0;
  while (Date.now() < end) {
    await sleep(100);
    const cur = await Promise.all([own('a', 1), own('b', 2)]);
    intervals++;
    const grew = (i: number) => prev[i] !== null && cur[i] !== null && cur[i] > prev[i];
    if (grew(0) && grew(1)) overlapping++;
    prev = cur;
  }
  return { intervals, overlapping };
}

/** The MariaDB experiments need to know which master the writer endpoint reaches. */
async function needsWriter(ctx: Ctx): Promise<string | undefined> {
  return (await ctx.stack.currentWriter()) ? undefined : 'the writer endpoint answers no server_id';
}

function kill(ctx: Ctx, name: string, sig: NodeJS.Signals): string {
  const pid = ctx.stack.signal(name, sig);
  return `${sig} ${name} (pid ${pid})`;
}

/** Every failed write in a window answered 503 problem+json with Retry-After (never 500, never a dropped connection). */
function writeFailuresAre503(r: Windows): Target {
  const bad = r.samples.filter(
    (s) =>
      s.kind !== 'read' &&
      doneAt(s) >= r.tFault &&
      failed(s) &&
      !(s.status === 503 && s.problem && s.retryAfter),
  );
  const all = r.samples.filter((s) => s.kind !== 'read' && doneAt(s) >= r.tFault && failed(s)).length;
  return {
    name: 'every failed write is 503 problem+json with Retry-After',
    kind: 'availability',
    pass: bad.length === 0,
    value: `${all - bad.length} of ${all} failed writes`,
  };
}

function readErrors(r: Windows, from: number): { failed: number; total: number } {
  const reads = r.samples.filter((s) => s.kind === 'read' && doneAt(s) >= from);
  return { failed: reads.filter(failed).length, total: reads.length };
}

const zeroReadErrors = (r: Windows): Target => {
  const e = readErrors(r, r.tFault);
  return {
    name: '0 read errors',
    kind: 'availability',
    pass: e.failed === 0,
    value: `${e.failed} of ${e.total}`,
  };
};

function noNodeLeft(ctx: Ctx): Target {
  const events = (ctx.facts.nodeLeaves as unknown[] | undefined) ?? [];
  return {
    name: 'no node leaves rotation',
    kind: 'availability',
    pass: events.length === 0,
    value: `${events.length} node-down events in the front HAProxy`,
  };
}

async function redisPrimary(ctx: Ctx): Promise<{ port: number; name: string }> {
  const port = await ctx.stack.redisPrimaryPort();
  if (!port) throw new Error('Sentinel names no Redis primary');
  return { port, name: ctx.stack.redisNameOf(port) };
}

export const EXPERIMENTS: Experiment[] = [
  {
    name: 'node-kill',
    title: 'service node 1 killed (SIGKILL), then restarted',
    phases: { faultS: 10 },
    inject: (ctx) => kill(ctx, 'service-1', 'SIGKILL'),
    heal: restart,
  },
  {
    name: 'node-term',
    title: 'service node 2 stopped (SIGTERM: drain, then close), then restarted',
    phases: { faultS: 15 },
    inject: (ctx) => kill(ctx, 'service-2', 'SIGTERM'),
    heal: restart,
    targets: (_ctx, r) => {
      // While node 2 is out of rotation node 1 carries the whole load; on this 2-core machine it may shed
      // (503 `overloaded` with Retry-After, before any work), issue 12's back-off answer, not a request the
      // stop failed. Counted and reported apart, as in `creates`.
      const f = r.samples.filter((s) => doneAt(s) >= r.tFault && failed(s));
      const shed = f.filter((s) => s.status === 503 && s.problemType === 'overloaded' && s.retryAfter);
      return [
        {
          name: 'a graceful stop fails no request (load shedding reported apart)',
          kind: 'availability',
          pass: f.length === shed.length,
          value: `${f.length - shed.length} failed; shed (503 overloaded, Retry-After): ${shed.length}`,
        },
      ];
    },
  },
  {
    name: 'redis-pause',
    title: 'Redis primary paused for 5 s (CLIENT PAUSE 5000)',
    phases: { faultS: 6 },
    inject: async (ctx) => {
      const p = await redisPrimary(ctx);
      await ctx.stack.withRedis(p.port, (c) => c.call('CLIENT', 'PAUSE', '5000', 'ALL'));
      ctx.undo.set('unpause', () =>
        ctx.stack.withRedis(p.port, (c) => c.call('CLIENT', 'UNPAUSE')).then(() => undefined),
      );
      return `CLIENT PAUSE 5000 ALL on ${p.name} (port ${p.port})`;
    },
    heal: (ctx) => {
      ctx.undo.delete('unpause');
      return 'the pause ends by itself after 5 s';
    },
    targets: (ctx, r) => {
      const reads = r.samples.filter(
        (s) => s.kind === 'read' && inWindow(s, r.tFault, r.tHeal) && !failed(s),
      );
      const max = Math.max(0, ...reads.map((s) => s.ms));
      ctx.facts.readMaxDuringPauseMs = Math.round(max);
      return [noNodeLeft(ctx), zeroReadErrors(r)];
    },
  },
  {
    name: 'redis-oom',
    title:
      'Redis primary at maxmemory with nothing volatile left (volatile keys dropped, maxmemory below used)',
    quick: true,
    // longer than the bound, so the writes of the fault's first seconds are checked while it lasts
    phases: { faultS: 25 },
    checkDuring: true,
    inject: async (ctx) => {
      const p = await redisPrimary(ctx);
      return ctx.stack.withRedis(p.port, async (c) => {
        const max = ((await c.config('GET', 'maxmemory')) as string[])[1];
        ctx.undo.set('maxmemory', () =>
          ctx.stack.withRedis(p.port, (c2) => c2.config('SET', 'maxmemory', max)).then(() => undefined),
        );
        ctx.facts.oom = { port: p.port, maxmemory: max };
        // Volatile keys are cache entries (backfills, absences, sku index): dropping them loses nothing.
        let cursor = '0';
        let dropped = 0;
        do {
          const [next, keys] = await c.scan(cursor, 'COUNT', 1000);
          cursor = next;
          if (keys.length === 0) continue;
          const ttls = (await c.pipeline(keys.map((k) => ['pttl', k])).exec()) ?? [];
          const vol = keys.filter((_, i) => Number(ttls[i]?.[1]) >= 0);
          if (vol.length) dropped += await c.unlink(...vol);
        } while (cursor !== '0');
        const used = Number(/^used_memory:(\d+)/m.exec(await c.info('memory'))?.[1]);
        const limit = Math.max(1 << 20, used - (2 << 20));
        await c.config('SET', 'maxmemory', String(limit));
        return `${p.name}: dropped ${dropped} volatile keys, CONFIG SET maxmemory ${limit} (used ${used}, was ${max})`;
      });
    },
    heal: async (ctx) => {
      const undo = ctx.undo.get('maxmemory');
      ctx.undo.delete('maxmemory');
      await undo?.();
      return `CONFIG SET maxmemory ${(ctx.facts.oom as { maxmemory: string }).maxmemory}`;
    },
    targets: (_ctx, r) => [writeFailuresAre503(r)],
  },
  {
    name: 'mariadb-writer-kill',
    title: 'MariaDB writer killed (SIGKILL), then restarted (failback is up to the stack)',
    quick: true,
    phases: { faultS: 20, afterS: 30 },
    impossible: needsWriter,
    inject: async (ctx) => {
      const w = (await ctx.stack.currentWriter())!;
      ctx.facts.writerBefore = w;
      return kill(ctx, `mariadb-${w}`, 'SIGKILL');
    },
    heal: restart,
    targets: async (ctx, r) => {
      ctx.facts.writerAfter = await ctx.stack.currentWriter();
      return [zeroReadErrors(r), writeFailuresAre503(r)];
    },
  },
  {
    // The race mariadb-writer-kill hits only sometimes, made certain: the writer is killed while its last
    // commits wait for an acknowledgement the passive master never sends, because its I/O thread is stopped
    // (its agent paused meanwhile, or it would start it again). Those commits were never acknowledged; crash
    // recovery commits them on the killed master, which so comes back with transactions the new writer never
    // had. Replication stays broken unless the stack's start re-clones it (scripts/stack.sh,
    // rejoin_errant_masters); the common safety targets judge the rest.
    name: 'mariadb-writer-kill-unsent',
    title: 'MariaDB writer killed (SIGKILL) with commits its peer never received, then restarted',
    phases: { faultS: 20, afterS: 30 },
    impossible: needsWriter,
    inject: async (ctx) => {
      const w = (await ctx.stack.currentWriter())!;
      const p = w === 'a' ? 'b' : 'a';
      ctx.facts.writerBefore = w;
      ctx.facts.errantBefore = ctx.stack.errantSaved(w);
      const agent = `db-agent-${p}`;
      ctx.stack.signal(agent, 'SIGSTOP');
      ctx.undo.set('agent', () => {
        ctx.stack.signal(agent, 'SIGCONT');
        return Promise.resolve();
      });
      try {
        await ctx.stack.rootSql(p, 'STOP SLAVE IO_THREAD');
        await sleep(1_000); // the writer's commits now wait for an acknowledgement (semi-sync timeout: 2 s)
        return `${agent} paused, STOP SLAVE IO_THREAD on mariadb-${p}, 1 s later ${kill(ctx, `mariadb-${w}`, 'SIGKILL')}`;
      } finally {
        ctx.stack.signal(agent, 'SIGCONT');
        ctx.undo.delete('agent');
      }
    },
    heal: restart,
    targets: async (ctx, r) => {
      const w = ctx.facts.writerBefore as 'a' | 'b';
      ctx.facts.writerAfter = await ctx.stack.currentWriter();
      const before = ctx.facts.errantBefore as string[];
      const saved = ctx.stack.errantSaved(w).filter((f) => !before.includes(f));
      ctx.facts.errantSaved = saved;
      return [
        zeroReadErrors(r),
        writeFailuresAre503(r),
        {
          // Without it the run proved nothing about the case it is for.
          name: 'the fault happened: the killed writer came back with commits its peer never had, and was re-cloned',
          kind: 'safety',
          pass: saved.length === 1,
          value: saved.length ? `saved to logs/${saved.join(', ')}` : 'nothing errant',
        },
      ];
    },
  },
  {
    name: 'mariadb-passive-down',
    title: 'the passive MariaDB master stopped (SIGTERM) for a while, then restarted',
    phases: { faultS: 30 },
    impossible: needsWriter,
    inject: async (ctx) => {
      const passive = (await ctx.stack.currentWriter()) === 'a' ? 'b' : 'a';
      ctx.facts.passive = passive;
      return kill(ctx, `mariadb-${passive}`, 'SIGTERM');
    },
    heal: restart,
    targets: (_ctx, r) => [zeroReadErrors(r), writeFailuresAre503(r)],
  },
  {
    // A helper's stack once saw A's agent flap (down 0.5 s, up again) under a 10,000-item batch: new writer
    // connections went to A while B's still wrote, both masters inserted one id, both SQL threads stopped.
    // Here the flaps are forced, on each master in turn, beside creates (the writes that collide).
    name: 'writer-flap',
    title: 'the writer agents flap: each master forced "agent down" in turn, every second, beside creates',
    phases: { faultS: 20 },
    creates: { rate: 100, connections: 16 },
    impossible: needsWriter,
    inject: async (ctx) => {
      ctx.facts.writerBefore = await ctx.stack.currentWriter();
      return 'set server mysql-writer/mariadb-a|b agent down, in turn every 1 s (the real agent answers within 0.5 s)';
    },
    hold: async (ctx) => {
      const end = Date.now() + ctx.phases.faultS * 1000;
      let flaps = 0;
      for (let i = 0; Date.now() < end; i++, flaps++) {
        await ctx.stack.dbAdmin(`set server mysql-writer/mariadb-${i % 2 ? 'b' : 'a'} agent down`);
        await sleep(1000);
      }
      ctx.facts.flaps = flaps;
    },
    heal: () => 'nothing to heal: the agents answer again',
    targets: async (ctx, r) => {
      ctx.facts.writerAfter = await ctx.stack.currentWriter();
      return [zeroReadErrors(r), writeFailuresAre503(r)];
    },
  },
  {
    // The split itself, forced, as a helper's stack once saw it (A's agent flapped under a big batch while
    // B's said up): B's agent check is disabled (HAProxy keeps B up on its health check alone), the writer
    // is drained and its sticky entry cleared, so new writer connections go to B, and every other session on
    // the writer is cut, so each service pool holds connections to both masters. Beside the ledger's load, 8
    // connections rewrite 5 hot ids (outside the ledger) as fast as they go: two masters taking writes at
    // once collide on them, and replication stops. Only the read_only layer keeps the pair whole.
    name: 'writer-split',
    title:
      'writer sessions split over both masters (B agent-less, A drained, half its sessions cut), hot ids',
    phases: { faultS: 20 },
    creates: { rate: 100, connections: 16 },
    impossible: needsWriter,
    inject: async (ctx) => {
      const w = (await ctx.stack.currentWriter())!;
      const p = w === 'a' ? 'b' : 'a';
      ctx.facts.writerBefore = w;
      await ctx.stack.dbAdmin(`disable agent mysql-writer/mariadb-${p}`);
      await ctx.stack.dbAdmin(`set server mysql-writer/mariadb-${w} state drain`);
      ctx.undo.set('split', async () => {
        await ctx.stack.dbAdmin(`enable agent mysql-writer/mariadb-${p}`);
        await ctx.stack.dbAdmin(`set server mysql-writer/mariadb-${w} state ready`);
      });
      await ctx.stack.dbAdmin('clear table mysql-writer');
      const sessions = (await ctx.stack.dbAdmin('show sess'))
        .split('\n')
        .filter((l) => l.includes(` be=mysql-writer srv=mariadb-${w} `))
        .map((l) => l.slice(0, l.indexOf(':')));
      const cut = sessions.filter((_, i) => i % 2 === 0);
      for (const s of cut) await ctx.stack.dbAdmin(`shutdown session ${s}`);
      ctx.facts.split = { writer: w, sessions: sessions.length, cut: cut.length };
      ctx.facts.hot = hotWrites(ctx, ctx.phases.faultS * 1000);
      return `agent check of mariadb-${p} disabled, mariadb-${w} drained, sticky entry cleared, ${cut.length} of its ${sessions.length} writer sessions cut; 8 connections rewrite 5 hot ids`;
    },
    hold: async (ctx) => {
      const both = bothMastersCommitting(ctx, ctx.phases.faultS * 1000);
      ctx.facts.hot = await ctx.facts.hot;
      ctx.facts.bothCommitting = await both;
    },
    heal: async (ctx) => {
      const undo = ctx.undo.get('split');
      ctx.undo.delete('split');
      await undo?.();
      return 'agent check enabled again, writer back to state ready (the sticky entry keeps writes where they went)';
    },
    targets: async (ctx, r) => {
      ctx.facts.writerAfter = await ctx.stack.currentWriter();
      const both = ctx.facts.bothCommitting as { intervals: number; overlapping: number };
      return [
        zeroReadErrors(r),
        writeFailuresAre503(r),
        {
          // One overlapping interval is the hand-over itself (A's last commit and B's first in one 100 ms).
          name: 'one master commits at a time (100 ms intervals in which both committed their own writes: at most 1)',
          kind: 'safety',
          pass: both.overlapping <= 1,
          value: `${both.overlapping} of ${both.intervals}`,
        },
      ];
    },
  },
  {
    name: 'creates',
    title: 'concurrent creates at 200/s beside the read and write load',
    quick: true,
    phases: { faultS: 20 },
    creates: { rate: 200, connections: 32 },
    inject: () => 'the creators run from the start (no fault)',
    heal: () => 'nothing to heal',
    targets: (ctx, r) => {
      const creates = r.samples.filter((s) => s.kind === 'create');
      const dur = (Math.max(...creates.map((s) => s.t)) - Math.min(...creates.map((s) => s.t))) / 1000;
      ctx.facts.createRate = Math.round(creates.length / Math.max(1, dur));
      // A node whose event loop runs over SHED_MAX_EVENT_LOOP_DELAY_MS late sheds (503 `overloaded` with
      // Retry-After, before any work): that is issue 12's overload answer, not a failure of the write path,
      // and it happens only when the machine itself is saturated (npm test beside two busy loops). It is
      // counted and reported; every other 5xx fails the target (issue 11 item 4: deadlocks answered 500).
      const x5 = r.samples.filter((s) => s.status >= 500);
      const shed = x5.filter((s) => s.problemType === 'overloaded' && s.retryAfter);
      return [
        {
          name: '0 answers 5xx from the write path (load shedding reported apart)',
          kind: 'availability',
          pass: x5.length === shed.length,
          value: `${x5.length - shed.length} of ${r.samples.length}; shed (503 overloaded, Retry-After): ${shed.length}`,
        },
      ];
    },
  },
  {
    name: 'overload',
    title: 'overload: 256 connections of bulk reads through the front (wrk) beside the steady load',
    phases: { faultS: 20 },
    inject: (ctx) => {
      ctx.facts.overload = runOverload(ctx);
      return 'wrk -t1 -c256 on the reader URLs';
    },
    hold: async (ctx) => {
      ctx.facts.overload = await ctx.facts.overload;
    },
    heal: () => 'wrk ended',
    targets: (ctx, r) => {
      const ok = (from: number, to: number) =>
        r.samples
          .filter((s) => s.kind === 'read' && inWindow(s, from, to) && s.status === 200)
          .map((s) => s.ms)
          .sort((a, b) => a - b);
      const p99 = (xs: number[]) => xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? NaN;
      const before = p99(ok(0, r.tFault));
      const during = p99(ok(r.tFault, r.tHeal));
      ctx.facts.p99 = { unloadedMs: before, overloadMs: during };
      // The same at the front HAProxy (%Ta of every 2xx GET, wrk's included): the time the stack took, without
      // the load generator's own wait for a core (it shares the machine's two with wrk and the stack).
      const log = ctx.stack.frontLogSince(ctx.frontMark);
      const at = (from: number, to: number) =>
        p99(frontActiveTimes(log, ctx.t0 + from, ctx.t0 + to).sort((a, b) => a - b));
      const frontBefore = at(0, r.tFault);
      const frontDuring = at(r.tFault, r.tHeal);
      ctx.facts.frontP99 = { unloadedMs: frontBefore, overloadMs: frontDuring };
      const w = ctx.facts.overload as OverloadResult | undefined;
      const probeRefused = r.samples.filter(
        (s) => inWindow(s, r.tFault, r.tHeal) && (s.status === 429 || s.status >= 500),
      );
      const refused = (w?.refused ?? 0) + probeRefused.length;
      const good =
        (w ? Math.min(w.problem, w.retry_after) : 0) +
        probeRefused.filter((s) => s.problem && s.retryAfter).length;
      return [
        {
          name: 'p99 of accepted reads within 5x the unloaded p99 (at the client)',
          kind: 'performance',
          pass: during <= 5 * before,
          value: `${during.toFixed(0)} ms vs ${before.toFixed(0)} ms unloaded (${(during / before).toFixed(1)}x)`,
        },
        {
          name: 'p99 of accepted requests within 5x the unloaded p99 (at the front HAProxy, %Ta)',
          kind: 'performance',
          pass: frontDuring <= 5 * frontBefore,
          value: `${frontDuring.toFixed(0)} ms vs ${frontBefore.toFixed(0)} ms unloaded (${(frontDuring / frontBefore).toFixed(1)}x)`,
        },
        {
          name: 'every refused request is problem+json with Retry-After',
          kind: 'availability',
          pass: !!w && w.problem === w.refused && w.retry_after === w.refused && good === refused,
          value: w
            ? `${refused} refused; problem+json ${w.problem}, Retry-After ${w.retry_after} (wrk) + probe ${probeRefused.length}`
            : 'wrk failed',
        },
        noNodeLeft(ctx),
      ];
    },
  },
  {
    name: 'all-nodes-down',
    title: 'every service node killed (SIGKILL); Varnish and the front HAProxy keep running',
    phases: { faultS: 30 },
    inject: (ctx) => `${kill(ctx, 'service-1', 'SIGKILL')}, ${kill(ctx, 'service-2', 'SIGKILL')}`,
    heal: restart,
    targets: (ctx, r) => {
      const reads = r.samples.filter((s) => s.kind === 'read' && inWindow(s, r.tFault, r.tHeal));
      const ok = reads.filter((s) => s.status === 200);
      const buckets: string[] = [];
      for (let t = r.tFault; t < r.tHeal; t += 5000) {
        const b = reads.filter((s) => inWindow(s, t, t + 5000));
        buckets.push(
          `${((t - r.tFault) / 1000).toFixed(0)}s: ${((100 * b.filter((s) => s.status === 200).length) / Math.max(1, b.length)).toFixed(0)} %`,
        );
      }
      ctx.facts.allDown = {
        share200: ok.length / Math.max(1, reads.length),
        last200AfterS: ok.length ? (Math.max(...ok.map(doneAt)) - r.tFault) / 1000 : null,
        byFiveSeconds: buckets.join(', '),
      };
      return [
        {
          name: 'reads answered 200 from stale copies (reported)',
          kind: 'performance',
          pass: true,
          value: `${((100 * ok.length) / Math.max(1, reads.length)).toFixed(1)} % of ${reads.length}; by 5 s: ${buckets.join(', ')}`,
        },
      ];
    },
  },
  {
    name: 'oversized',
    title: 'oversized requests at every hop: 3 MB PUT body (413), 20 KB header (431), 20 KB URL (414)',
    phases: { faultS: 5 },
    inject: (ctx) => {
      ctx.facts.oversized = oversized(ctx);
      return '3 MB PUT (Content-Length, chunked, Expect: 100-continue), 20 KB header, 20 KB URL: 3 tries each at the front, each Varnish, each service';
    },
    hold: async (ctx) => {
      ctx.facts.oversized = await ctx.facts.oversized;
    },
    heal: () => 'nothing to heal',
    targets: (ctx) => {
      const rows = ctx.facts.oversized as OversizedRow[];
      const ok = (x: OversizedRow) => x.problem && accepted(x).includes(x.status);
      const body = rows.filter((x) => x.test.startsWith('body'));
      const bad = body.filter((x) => !ok(x));
      const others = rows.filter((x) => !x.test.startsWith('body'));
      const badOther = others.filter((x) => !ok(x));
      return [
        {
          name: '413 problem+json at every hop (411 at the edge for a body without a declared length)',
          kind: 'availability',
          pass: bad.length === 0,
          value: `${body.length - bad.length} of ${body.length}; wrong: ${summarize(bad)}`,
        },
        {
          name: '431/414 problem+json at every hop',
          kind: 'availability',
          pass: badOther.length === 0,
          value: `${others.length - badOther.length} of ${others.length}; wrong: ${summarize(badOther)}`,
        },
      ];
    },
  },
  {
    name: 'redis-kill',
    title: 'Redis primary killed (SIGKILL); Sentinel fails over; the old primary is restarted',
    quick: true,
    phases: { faultS: 20 },
    inject: async (ctx) => {
      const p = await redisPrimary(ctx);
      ctx.facts.killedRedis = p;
      return kill(ctx, p.name, 'SIGKILL') + ` (port ${p.port})`;
    },
    heal: restart,
    targets: async (ctx, r) => {
      const killed = ctx.facts.killedRedis as { port: number; name: string };
      const role = await ctx.stack.redisRole(killed.port);
      const now = await ctx.stack.redisPrimaryPort();
      const e = readErrors(r, r.tFault);
      return [
        {
          name: 'fewer than 1 % of reads fail',
          kind: 'availability',
          pass: e.failed < e.total * 0.01,
          value: `${((100 * e.failed) / Math.max(1, e.total)).toFixed(2)} % (${e.failed} of ${e.total})`,
        },
        {
          name: 'the old primary rejoins as a replica',
          kind: 'availability',
          pass: role === 'slave' && now !== killed.port,
          value: `${killed.name} is ${role ?? 'down'}; primary now ${now ? ctx.stack.redisNameOf(now) : 'unknown'}`,
        },
        writeFailuresAre503(r),
      ];
    },
  },
  {
    // Issue 12's truncated 200s: a service that stops mid-answer for longer than Varnish's
    // between_bytes_timeout (5 s). A Varnish streaming the miss would have sent the 200 already and could only
    // close: HAProxy's SD--. The VCL stores a miss whole first (do_stream = false), so this is a failed fetch.
    name: 'node-stall',
    title:
      'service node 1 stalled (SIGSTOP) for 8 s, longer than Varnish waits for the next byte, then resumed',
    phases: { faultS: 8 },
    inject: (ctx) => {
      const r = kill(ctx, 'service-1', 'SIGSTOP');
      ctx.undo.set('cont', () => {
        ctx.stack.signal('service-1', 'SIGCONT');
        return Promise.resolve();
      });
      return r;
    },
    heal: (ctx) => {
      ctx.undo.delete('cont');
      return kill(ctx, 'service-1', 'SIGCONT');
    },
    targets: (_ctx, r) => [zeroReadErrors(r)],
  },
];

export interface OverloadResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  ok: number;
  refused: number;
  problem: number;
  retry_after: number;
  other: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
}

const OVERLOAD_LUA = path.join(__dirname, '../../../chaos/lib/overload.lua');

/** wrk (C, one thread) makes the 256 connections, so the load generator takes little of the two cores. */
function runOverload(ctx: Ctx): Promise<OverloadResult | undefined> {
  const args = [
    '-t1',
    '-c256',
    `-d${ctx.phases.faultS}s`,
    '--timeout',
    '10s',
    '-s',
    OVERLOAD_LUA,
    `http://127.0.0.1:${ctx.stack.frontPort}`,
  ];
  return new Promise((resolve) => {
    execFile(
      'wrk',
      args,
      { env: { ...process.env, WRK_PATHS: ctx.readPathsFile }, maxBuffer: 1 << 20 },
      (err, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
        if (!line) {
          ctx.note(`wrk failed: ${err?.message ?? stdout}`);
          return resolve(undefined);
        }
        resolve(JSON.parse(line.slice(9)) as OverloadResult);
      },
    );
  });
}

export interface OversizedRow {
  hop: string;
  test: string;
  want: number;
  status: number;
  problem: boolean;
  err?: string;
}

/**
 * What each hop may answer, all as problem+json (docs/edge.md, "Limits"): the edge (front, Varnish) refuses a
 * body without a Content-Length with 411, since a chunked body's size is known only once it has been read;
 * Node.js counts the request line in its 16 KiB header limit, so a 20 KiB URL is a 431 at the service. The
 * heads are 20 KiB: over every limit (front 6 KiB of headers, 9 KiB of URL) and within the 32 KiB the
 * front's parser buffers; a head over that gets HAProxy 2.6's built-in text/html 400 (docs/edge.md).
 */
function accepted(x: OversizedRow): number[] {
  const edge = x.hop === 'front' || x.hop.startsWith('varnish');
  if (x.test === 'body-chunked' && edge) return [411, 413];
  if (x.test !== 'url' && x.test !== 'header') return [x.want];
  if (x.test === 'url' && x.hop.startsWith('service')) return [414, 431];
  return [x.want];
}

const summarize = (rows: OversizedRow[]) =>
  rows.length === 0
    ? 'none'
    : [
        ...new Set(
          rows.map(
            (x) =>
              `${x.hop} ${x.test}: ${x.status || x.err}${x.status && !x.problem ? ' (not problem+json)' : ''}`,
          ),
        ),
      ].join('; ');

async function oversized(ctx: Ctx): Promise<OversizedRow[]> {
  const s = ctx.stack;
  const hops: Array<[string, number]> = [
    ['front', s.frontPort],
    ...s.varnishPorts.map((p, i): [string, number] => [`varnish-${i + 1}`, p]),
    ...s.servicePorts.map((p, i): [string, number] => [`service-${i + 1}`, p]),
  ];
  const big = JSON.stringify({ sku: 'CHAOS-BIG', status: 'active', name: { en: 'x'.repeat(3 << 20) } });
  const rows: OversizedRow[] = [];
  for (const [hop, port] of hops) {
    for (let i = 0; i < 3; i++) {
      const c = new Client(port, 1);
      const put = (framing: 'length' | 'chunked' | 'expect') =>
        c.request('PUT', '/v1/products/1', {
          body: big,
          headers: { authorization: WRITE_KEY },
          wantBody: true,
          framing,
        });
      const tests: Array<['body' | 'header' | 'url', number, () => ReturnType<Client['request']>]> = [
        ['body', 413, () => put('length')],
        ['body', 413, () => put('chunked')],
        ['body', 413, () => put('expect')],
        [
          'header',
          431,
          () =>
            // an id nobody reads, so that Varnish asks the service (which answers the 431) and does not
            // answer from its cache
            c.request('GET', `/v1/products/${900_000_000 + rows.length}`, {
              headers: { 'x-big': 'y'.repeat(20 << 10) },
              wantBody: true,
            }),
        ],
        [
          'url',
          414,
          () => c.request('GET', `/v1/products?ids=1${',1'.repeat(10 << 10)}`, { wantBody: true }),
        ],
      ];
      for (const [test, want, run] of tests) {
        const a = await run();
        const framing =
          test === 'body'
            ? ['length', 'chunked', 'expect'][
                rows.filter((x) => x.hop === hop && x.test.startsWith('body')).length % 3
              ]
            : undefined;
        rows.push({
          hop,
          test: framing ? `body-${framing}` : test,
          want,
          status: a.status,
          problem: String(a.headers['content-type'] ?? '').startsWith('application/problem+json'),
          ...(a.err ? { err: a.err } : {}),
        });
      }
      c.close();
    }
  }
  return rows;
}

export function writePathsFile(dir: string, paths: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const f = path.join(dir, 'read.paths');
  fs.writeFileSync(f, paths.join('\n') + '\n');
  return f;
}

export { failed, inWindow, sleep };
