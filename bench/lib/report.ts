import type { WrkResult } from './wrk';
import type { ImportResult } from './import';
import type { MixedResult } from '../run';

const median = (xs: number[]) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export interface Row {
  name: string;
  rps: number;
  rpsRounds: number[];
  p50ms: number;
  p99ms: number;
  errors: number;
  non2xx: number;
  cpuMsPerReq: number;
  /** Busy CPU of the whole machine (every process: wrk, HAProxy, Varnish, Redis, MariaDB) per request. */
  machineMsPerReq: number;
  /** CPU per request of each serving process (median over rounds), largest first. */
  byProcess: Array<[string, number]>;
  /** The service's GC pauses per request by kind (minor, major, incremental), median over rounds. */
  gc: Array<[string, number]>;
  mysqlShare: number | null;
  cacheHitShare: number | null;
}

/** Per key, the median over the rounds (a round without the key counts 0). */
const medianByKey = (maps: Array<Record<string, number> | undefined>): Array<[string, number]> =>
  [...new Set(maps.flatMap((m) => Object.keys(m ?? {})))].map((k) => [
    k,
    median(maps.map((m) => m?.[k] ?? 0)),
  ]);

type Round = WrkResult & {
  cpuMsPerReq: number;
  machineMsPerReq: number;
  byProcess?: Record<string, number>;
  gcMsPerReq?: Record<string, number>;
};

export const Row = {
  /**
   * `rounds` ran without counting responses (cheapest for the load generator); `check`, a short pass
   * under the same load after the rounds, counted them: it gives the tier and cache shares.
   */
  of(name: string, rounds: Round[], check?: WrkResult): Row {
    const rpsRounds = rounds.map((r) => r.requests / (r.duration_us / 1e6));
    const all = check ? [...rounds, check] : rounds;
    const tiered = check ? check.tier_mysql + check.tier_redis : 0;
    const cached = check ? check.cache_hit + check.cache_miss : 0;
    return {
      name,
      rps: median(rpsRounds),
      rpsRounds,
      p50ms: median(rounds.map((r) => r.p50_us / 1000)),
      p99ms: median(rounds.map((r) => r.p99_us / 1000)),
      errors: all.reduce((n, r) => n + r.connect_errors + r.read_errors + r.write_errors + r.timeouts, 0),
      // Uncounted runs know only statuses >= 400 (wrk's own count); counted ones every non-2xx.
      non2xx: all.reduce((n, r) => n + (r.counted ? r.s3xx + r.s4xx + r.s5xx : r.status_errors), 0),
      cpuMsPerReq: median(rounds.map((r) => r.cpuMsPerReq)),
      machineMsPerReq: median(rounds.map((r) => r.machineMsPerReq)),
      byProcess: medianByKey(rounds.map((r) => r.byProcess))
        .filter(([, ms]) => ms >= 0.005)
        .sort((a, b) => b[1] - a[1]),
      gc: medianByKey(rounds.map((r) => r.gcMsPerReq)),
      mysqlShare: check && tiered ? check.tier_mysql / tiered : null,
      cacheHitShare: check && cached ? check.cache_hit / cached : null,
    };
  },
};

export interface Target {
  name: string;
  ratio?: number;
  want: number;
  pass?: boolean;
  note?: string;
}

export const Target = {
  ratio(name: string, a: Row | undefined, b: Row | undefined, want: number): Target {
    if (!a || !b) return { name, want, note: 'not measured in this run' };
    // Median of per-round ratios: each round's pair ran minutes apart at most, under the same machine load.
    const per = a.rpsRounds.map((x, i) => x / b.rpsRounds[i]);
    const ratio = median(per);
    return {
      name,
      ratio,
      want,
      pass: ratio >= want,
      note: `per round: ${per.map((x) => x.toFixed(2)).join(', ')}`,
    };
  },
  value(name: string, ratio: number, want: number): Target {
    return { name, ratio, want, pass: ratio >= want };
  },
  plain(name: string, ratio: number | undefined, note: string): Target {
    return { name, ratio, want: NaN, note };
  },
};

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function renderReport(
  meta: Record<string, unknown>,
  rows: Row[],
  targets: Target[],
  imp?: ImportResult,
  mixed?: MixedResult,
): string {
  const lines = [
    `# Benchmark report`,
    '',
    `${String(meta.date)} · ${meta.quick ? 'quick' : 'full'} run · ${String(meta.products)} products · ${String(meta.rounds)} rounds × ${String(meta.seconds)} s, interleaved · wrk, 1 thread, ${String(meta.connections)} connections · node ${String(meta.node)} · ${String(meta.cpus)} cores (shared)`,
    '',
    'Every figure is the median over the rounds. CPU is user+system time of the serving process per request; machine CPU is the busy time of both cores (every process: wrk, HAProxy, Varnish, Redis, MariaDB, the service) per request. The rounds run wrk without a response callback (it would copy every body into Lua); "from MySQL", "Varnish hits" and the 2xx/3xx counts come from a short counted pass per scenario after the rounds.',
    '',
    '| scenario | req/s (median) | req/s per round | p50 ms | p99 ms | errors | non-2xx | CPU ms/req | machine CPU ms/req | from MySQL | Varnish hits |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${f(r.rps)} | ${r.rpsRounds.map((x) => f(x)).join(' / ')} | ${f(r.p50ms, 2)} | ${f(r.p99ms, 2)} | ${r.errors} | ${r.non2xx} | ${f(r.cpuMsPerReq, 3)} | ${f(r.machineMsPerReq, 3)} | ${r.mysqlShare === null ? '' : f(r.mysqlShare * 100) + ' %'} | ${r.cacheHitShare === null ? '' : f(r.cacheHitShare * 100) + ' %'} |`,
    ),
    '',
  ];
  lines.push(
    '## Where the CPU goes',
    '',
    'CPU ms per request of each process that served the scenario (median over the rounds; Redis includes its AOF rewrites, Varnish its cache process; wrk and the kernel make up the rest of the machine figure). Processes under 0.005 ms are left out. Service GC pauses: ms per request the service process spent in garbage collection, by kind (its own metrics).',
    '',
    '| scenario | machine | by process | service GC pauses |',
    '|---|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${f(r.machineMsPerReq, 3)} | ${r.byProcess.map(([p, ms]) => `${p} ${f(ms, 3)}`).join(' · ')} | ${r.gc.map(([k, ms]) => `${k} ${f(ms, 3)}`).join(' · ')} |`,
    ),
    '',
  );
  if (imp) {
    lines.push(
      '## Import',
      '',
      `| what | rows | seconds | rows/s |`,
      `|---|---:|---:|---:|`,
      `| import (npm run seed: MySQL + Redis) | ${imp.rows} | ${f(imp.importSeconds, 1)} | ${f(imp.importRowsPerSec)} |`,
      `| load-data (LOAD DATA LOCAL INFILE, MySQL only) | ${imp.rows} | ${f(imp.loadDataSeconds, 1)} | ${f(imp.loadDataRowsPerSec)} |`,
      '',
    );
  }
  if (mixed) {
    lines.push(
      '## Mixed (reads and writes through the front HAProxy, both nodes, Varnish)',
      '',
      `${mixed.seconds} s, one run, ${mixed.connections.readers} reader and ${mixed.connections.writers} writer connections (the reader count whose short probe came closest to 5 % writes). Writes: ${f(mixed.writeShare * 100, 1)} % of requests.`,
      '',
      '| | req/s | p50 ms | p99 ms | errors / non-2xx |',
      '|---|---:|---:|---:|---:|',
      `| reads | ${f(mixed.reads.rps)} | ${f(mixed.reads.p50ms, 2)} | ${f(mixed.reads.p99ms, 2)} | ${mixed.reads.errors} |`,
      `| writes (PUT) | ${f(mixed.writes.rps)} | ${f(mixed.writes.p50_us / 1000, 2)} | ${f(mixed.writes.p99_us / 1000, 2)} | ${mixed.writes.errors} / ${mixed.writes.non2xx} |`,
      '',
      `Purge lag (write's invalidation entry -> purge applied on a node's Varnish, both nodes): ${mixed.purge.count} purges, mean ${f(mixed.purge.meanMs, 1)} ms, p99 <= ${f(mixed.purge.p99AtMostMs, 0)} ms (histogram bucket).`,
      '',
    );
  }
  lines.push('## Targets', '');
  for (const t of targets) {
    const verdict = t.pass === undefined ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL';
    lines.push(
      `- ${verdict}: ${t.name}${t.ratio !== undefined ? `: ${f(t.ratio, 2)}` : ''}${t.note ? ` (${t.note})` : ''}`,
    );
  }
  return lines.join('\n') + '\n';
}
