/** The stdout table and the Markdown report of `npm run chaos`. */
import type { Target } from './experiments';
import type { Kind } from './load';
import type { FrontEnds } from './truncation';
import type { DuringCheck, Verification } from './verify';

export type WindowName = 'before' | 'fault' | 'after';

export interface WindowCounts {
  total: number;
  failed: number;
  /** non-2xx answers by status ("0:ECONNRESET" for no answer) */
  byStatus: Record<string, number>;
}

export interface ExperimentResult {
  name: string;
  title: string;
  skipped?: string;
  error?: string;
  injected?: string;
  healed?: string;
  notes: string[];
  /** ms since the experiment started */
  times: { fault: number; heal: number; healed: number; recovered?: number; end: number };
  recoveryMs?: number;
  windows: Record<WindowName, Partial<Record<Kind, WindowCounts>>>;
  writeUnavailability: { failed: number; windowMs?: number; firstMs?: number; lastMs?: number };
  responses5xx: { total: number; status500: number; notProblem: number; withRetryAfter: number };
  errorBodies: Array<{
    status: number;
    contentType: string;
    retryAfter?: string;
    body: string;
    count: number;
    kinds: string;
  }>;
  nodeLeaves: Array<{ node: string; atMs: number; forMs?: number }>;
  verification?: Verification;
  during?: DuringCheck;
  /** answers cut short, seen by the load generator and in the front HAProxy's log (truncation.ts) */
  truncation?: {
    client: {
      /** answers 200 whose body did not arrive whole */
      truncated200: number;
      /** every answer whose body did not arrive whole, by cause below */
      truncated: number;
      /** the connection failed after the head: socket errors mid-body */
      midBody: number;
      length: number;
      json: number;
      /** requests without any HTTP answer (socket errors before the head, timeouts) */
      noAnswer: number;
      examples: string[];
    };
    front: FrontEnds;
  };
  targets: Target[];
  facts: Record<string, unknown>;
}

const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

function errs(r: ExperimentResult, w: WindowName): string {
  const c = r.windows[w];
  const f = (k: Kind) => c[k]?.failed ?? 0;
  return `${f('read')}/${f('write') + f('create')}`;
}

function statuses(r: ExperimentResult): string {
  const all: Record<string, number> = {};
  for (const w of Object.values(r.windows))
    for (const c of Object.values(w))
      for (const [k, n] of Object.entries(c.byStatus)) all[k] = (all[k] ?? 0) + n;
  return (
    Object.entries(all)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}x${n}`)
      .join(' ') || '-'
  );
}

export function verdict(r: ExperimentResult, quick: boolean): { safety: boolean; all: boolean } {
  if (r.skipped) return { safety: true, all: true };
  if (r.error) return { safety: false, all: false };
  const safety = r.targets.filter((t) => t.kind === 'safety').every((t) => t.pass);
  const all = r.targets.filter((t) => !(quick && t.kind === 'performance')).every((t) => t.pass);
  return { safety, all };
}

export function table(results: ExperimentResult[], quick: boolean): string {
  const head = [
    'experiment',
    'result',
    'errors r/w before',
    'fault',
    'after',
    'statuses (non-2xx)',
    'cut 200s client/front',
    'recovery',
    'write unavail.',
    'acks lost',
    'stale',
    'backw.',
    '2 docs',
    'replication',
    'checksums',
    'failed targets',
  ];
  const rows = results.map((r) => {
    const v = r.verification;
    const verd = verdict(r, quick);
    return [
      r.name,
      r.skipped ? 'SKIPPED' : r.error ? 'ERROR' : verd.all ? 'pass' : verd.safety ? 'FAIL' : 'FAIL (safety)',
      errs(r, 'before'),
      errs(r, 'fault'),
      errs(r, 'after'),
      statuses(r),
      r.truncation ? `${r.truncation.client.truncated200}/${r.truncation.front.cut200}` : '-',
      s(r.recoveryMs),
      r.writeUnavailability.failed
        ? `${s(r.writeUnavailability.windowMs)} (${r.writeUnavailability.failed})`
        : '0',
      v ? String(v.acksLost) : '-',
      v ? String(v.staleAfterBound) : '-',
      v ? String(v.versionsBackwards) : '-',
      v ? String(v.twoDocs) : '-',
      v ? (v.replicationOk ? 'ok' : 'BROKEN') : '-',
      v ? (v.checksums.equal ? 'equal' : 'DIFFER') : '-',
      r.skipped ??
        r.error ??
        (r.targets
          .filter((t) => !t.pass)
          .map((t) => t.name)
          .join('; ') ||
          '-'),
    ];
  });
  const md = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [md(head), md(head.map(() => '---')), ...rows.map(md)].join('\n');
}

export function renderReport(
  meta: Record<string, unknown>,
  results: ExperimentResult[],
  quick: boolean,
): string {
  const out: string[] = [];
  out.push(`# Chaos report ${String(meta.date)}`, '');
  out.push(
    `${quick ? 'Quick' : 'Full'} run (\`${String(meta.command)}\`), commit ${String(meta.commit)}, ${String(meta.cpus)} CPUs, node ${String(meta.node)}.`,
    `Load: ${String(meta.load)}. Staleness bound waited before the ledger check: ${String(meta.boundMs)} ms (${String(meta.boundWhy)}).`,
    '',
    'Errors are `reads/writes` that failed (5xx, 429, no answer; for writes any non-2xx) in each window: before the fault, during it (injection to heal), after the heal.',
    'Recovery: from the injection until the stack is healthy again (every node ready and UP in the front HAProxy, replication running both ways, a Redis primary with a replica, no failed request for 2 s).',
    '',
    table(results, quick),
    '',
  );
  for (const r of results) {
    out.push(`## ${r.name}: ${r.title}`, '');
    if (r.skipped) {
      out.push(`Skipped: ${r.skipped}`, '');
      continue;
    }
    if (r.error) out.push(`**Error:** ${r.error}`, '');
    out.push(
      `- injected at ${s(r.times.fault)}: ${r.injected ?? '-'}`,
      `- healed at ${s(r.times.heal)}: ${r.healed ?? '-'}`,
      `- recovered: ${r.recoveryMs === undefined ? 'NOT within the wait' : `${s(r.recoveryMs)} after the injection`}; load stopped at ${s(r.times.end)}`,
      `- write unavailability: ${r.writeUnavailability.failed} failed writes${r.writeUnavailability.failed ? `, first at ${s(r.writeUnavailability.firstMs)} after the injection, last at ${s(r.writeUnavailability.lastMs)}: window ${s(r.writeUnavailability.windowMs)}` : ''}`,
      `- 5xx answers: ${r.responses5xx.total} (500: ${r.responses5xx.status500}, not problem+json: ${r.responses5xx.notProblem}, with Retry-After: ${r.responses5xx.withRetryAfter})`,
      `- nodes out of rotation (front HAProxy): ${r.nodeLeaves.length ? r.nodeLeaves.map((n) => `${n.node} at ${s(n.atMs)} for ${s(n.forMs)}`).join(', ') : 'none'}`,
    );
    const tr = r.truncation;
    if (tr)
      out.push(
        `- answers cut short: client ${tr.client.truncated} (200s: ${tr.client.truncated200}; mid-body socket errors ${tr.client.midBody}, fewer bytes than Content-Length ${tr.client.length}, JSON that does not parse ${tr.client.json}; requests with no answer at all: ${tr.client.noAnswer})${tr.client.examples.length ? `, e.g. ${tr.client.examples.join('; ')}` : ''}`,
        `- front HAProxy log: ${tr.front.lines} answers, ${tr.front.cut200} answers 200 ended by the server side (SD, SH, ...), ${tr.front.clientAborted200} answers 200 the client gave up (CD); abnormal ends: ${
          Object.entries(tr.front.byEnd)
            .sort((a, b) => b[1] - a[1])
            .map(([k, n]) => `${k} x${n}`)
            .join(', ') || 'none'
        }`,
        ...tr.front.examples.map((l) => `  - \`${l.replace(/`/g, "'")}\``),
      );
    for (const n of r.notes) out.push(`- note: ${n}`);
    if (Object.keys(r.facts).length) out.push(`- facts: \`${JSON.stringify(r.facts)}\``);
    out.push('', '| window | kind | requests | failed | by status |', '|---|---|---|---|---|');
    for (const [w, kinds] of Object.entries(r.windows))
      for (const [k, c] of Object.entries(kinds))
        out.push(
          `| ${w} | ${k} | ${c.total} | ${c.failed} | ${Object.entries(c.byStatus)
            .map(([st, n]) => `${st}: ${n}`)
            .join(', ')} |`,
        );
    out.push('');
    if (r.during)
      out.push(
        `While the fault lasted (just before the heal): ${r.during.stale} of ${r.during.ids} ids acknowledged more than the bound earlier were served older (${Object.entries(
          r.during.byStore,
        )
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ')})${r.during.examples.length ? `; e.g. ${r.during.examples.join('; ')}` : ''}.`,
        '',
      );
    const v = r.verification;
    if (v) {
      out.push(
        `Ledger: ${v.acks} acknowledged writes over ${v.ids} ids; acks lost ${v.acksLost}, stale after the bound ${v.staleAfterBound}, versions backwards ${v.versionsBackwards}, (id, version) with two documents ${v.twoDocs}.`,
        `Replication: A ${v.replication.a.io}/${v.replication.a.sql}${v.replication.a.error ? ` (${v.replication.a.error})` : ''}, B ${v.replication.b.io}/${v.replication.b.sql}${v.replication.b.error ? ` (${v.replication.b.error})` : ''}. CHECKSUM TABLE products: A ${v.checksums.a ?? '?'}, B ${v.checksums.b ?? '?'} (${v.checksums.equal ? 'equal' : 'DIFFERENT'}, waited ${s(v.checksums.waitedMs)}).`,
        '',
        '| store | behind acknowledged | other document | unexplained newer | examples |',
        '|---|---|---|---|---|',
        ...v.stores.map(
          (c) =>
            `| ${c.store} | ${c.unreadable ? `unreadable: ${c.unreadable}` : c.behind} | ${c.otherDoc} | ${c.unexplained} | ${c.examples.join('; ').replace(/\|/g, '\\|')} |`,
        ),
        '',
      );
    }
    out.push('| target | kind | value | result |', '|---|---|---|---|');
    for (const t of r.targets)
      out.push(
        `| ${t.name} | ${t.kind} | ${t.value.replace(/\|/g, '\\|')} | ${t.pass ? 'pass' : quick && t.kind === 'performance' ? 'fail (reported only in --quick)' : '**FAIL**'} |`,
      );
    if (r.errorBodies.length) {
      out.push('', 'Error answers (5xx and 429), grouped by status and body:', '');
      for (const b of r.errorBodies.slice(0, 8))
        out.push(
          `- ${b.count} x ${b.status} (${b.kinds}) \`${b.contentType || 'no content-type'}\`${b.retryAfter ? ` Retry-After: ${b.retryAfter}` : ' no Retry-After'}: \`${b.body.replace(/\s+/g, ' ').slice(0, 240).replace(/`/g, "'")}\``,
        );
      if (r.errorBodies.length > 8)
        out.push(`- ... ${r.errorBodies.length - 8} more groups (see the .json report)`);
    }
    out.push('');
  }
  return out.join('\n');
}
