/**
 * The ledger check after an experiment: for every id written, the last acknowledged version must be what
 * MariaDB A, MariaDB B, the Redis primary and the API (through the front and each node's Varnish) hold,
 * with the same document. Bulk reads only: WHERE id IN (...), MGET, 200-id API reads.
 */
import { Ack, Attempt, Client, docHash, seqOf } from './load';
import { Replication, replicationOk, sleep, Stack } from './stack';

interface Stored {
  version: number;
  hash: string;
  seq?: number;
}

/** What one store holds for the ids; undefined for the whole store when it could not be read. */
type Snapshot = Map<number, Stored | null>;

export interface StoreCheck {
  store: string;
  /** ids whose stored version is older than the last acknowledged one (or missing) */
  behind: number;
  /** ids at the acknowledged version with a different document */
  otherDoc: number;
  /** ids at a newer version whose document no PUT of this run explains */
  unexplained: number;
  /** the store could not be read at all */
  unreadable?: string;
  examples: string[];
}

export interface Verification {
  ids: number;
  acks: number;
  /** ids whose last acknowledged write is missing from MariaDB A or B */
  acksLost: number;
  /** ids Redis or the API (front, either Varnish) served older than acknowledged after the bound */
  staleAfterBound: number;
  /** acknowledged versions of one id that went down over time */
  versionsBackwards: number;
  /** (id, version) pairs seen with two different documents (ledger and every store) */
  twoDocs: number;
  stores: StoreCheck[];
  replication: { a: Replication; b: Replication };
  replicationOk: boolean;
  checksums: { a?: string; b?: string; equal: boolean; waitedMs: number };
}

const chunks = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

function parseDoc(doc: string | Buffer | null | undefined): Stored | null {
  if (doc === null || doc === undefined) return null;
  const s = doc.toString();
  if (s === '' || s.startsWith('!')) return null; // an absence or a tombstone
  const o = JSON.parse(s) as { version: number; name?: Record<string, string> };
  return { version: o.version, hash: docHash(o), seq: seqOf(o) };
}

async function mariadbSnapshot(stack: Stack, x: 'a' | 'b', ids: number[]): Promise<Snapshot> {
  return stack.withMysql(stack.mariadbPorts[x], async (c) => {
    const out: Snapshot = new Map(ids.map((id) => [id, null]));
    for (const part of chunks(ids, 1000)) {
      const [rows] = await c.query('SELECT id, doc FROM products WHERE id IN (?) AND deleted_at IS NULL', [
        part,
      ]);
      for (const r of rows as Array<{ id: number; doc: string }>) out.set(Number(r.id), parseDoc(r.doc));
    }
    return out;
  });
}

async function redisSnapshot(stack: Stack, ids: number[]): Promise<Snapshot> {
  const port = await stack.redisPrimaryPort();
  if (!port) throw new Error('no Redis primary (Sentinel names none that answers as primary)');
  return stack.withRedis(port, async (r) => {
    const out: Snapshot = new Map();
    for (const part of chunks(ids, 500)) {
      const vals = await r.mget(...part.map((id) => `product:${id}`));
      part.forEach((id, i) => out.set(id, parseDoc(vals[i])));
    }
    return out;
  });
}

async function apiSnapshot(port: number, ids: number[]): Promise<Snapshot> {
  const client = new Client(port, 4);
  try {
    const out: Snapshot = new Map(ids.map((id) => [id, null]));
    for (const part of chunks(ids, 200)) {
      const a = await client.request('GET', `/v1/products?ids=${part.join(',')}`, {
        wantBody: true,
        timeoutMs: 10_000,
      });
      if (a.status !== 200 || !a.body) throw new Error(`GET ${part.length} ids: ${a.status || a.err}`);
      for (const d of (JSON.parse(a.body) as { data: Array<{ id: number }> }).data)
        out.set(d.id, parseDoc(JSON.stringify(d)));
    }
    return out;
  } finally {
    client.close();
  }
}

export async function verify(stack: Stack, acks: Ack[], attempts: Attempt[]): Promise<Verification> {
  // The ledger on its own: per id, acknowledged versions in the order the answers came.
  const byId = new Map<number, Ack[]>();
  for (const a of [...acks].sort((x, y) => x.ackAt - y.ackAt)) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
  let versionsBackwards = 0;
  const docsOf = new Map<string, Set<string>>();
  const see = (id: number, version: number, hash: string) => {
    const k = `${id}:${version}`;
    docsOf.set(k, (docsOf.get(k) ?? new Set()).add(hash));
  };
  for (const list of byId.values()) {
    for (let i = 1; i < list.length; i++) if (list[i].version <= list[i - 1].version) versionsBackwards++;
    for (const a of list) see(a.id, a.version, a.hash);
  }
  // The last acknowledged write of an id is what every store must hold: the latest answer, not the highest
  // version (when versions went backwards, the highest one was overwritten by a later acknowledged write).
  const last = new Map([...byId].map(([id, list]) => [id, list[list.length - 1]]));
  const unackedSeqs = new Map<number, Set<number>>();
  for (const at of attempts)
    if (!at.acked) unackedSeqs.set(at.id, (unackedSeqs.get(at.id) ?? new Set()).add(at.seq));
  const ids = [...last.keys()].sort((a, b) => a - b);

  const badIds = new Map<string, Set<number>>();
  const check = async (store: string, read: () => Promise<Snapshot>): Promise<StoreCheck> => {
    const c: StoreCheck = { store, behind: 0, otherDoc: 0, unexplained: 0, examples: [] };
    const bad = new Set<number>();
    badIds.set(store, bad);
    let snap: Snapshot;
    try {
      snap = await read();
    } catch (e) {
      c.unreadable = (e as Error).message;
      c.behind = ids.length;
      for (const id of ids) bad.add(id);
      return c;
    }
    const note = (s: string) => c.examples.length < 5 && c.examples.push(s);
    const fail = (id: number, s: string) => {
      bad.add(id);
      note(s);
    };
    for (const id of ids) {
      const ack = last.get(id)!;
      const got = snap.get(id);
      if (!got || got.version < ack.version) {
        c.behind++;
        fail(id, `${id}: acknowledged v${ack.version}, ${got ? `holds v${got.version}` : 'missing'}`);
        if (got) see(id, got.version, got.hash);
        continue;
      }
      see(id, got.version, got.hash);
      if (got.version === ack.version && got.hash !== ack.hash) {
        c.otherDoc++;
        fail(
          id,
          `${id}: v${ack.version} with another document (seq ${got.seq ?? '?'}, acknowledged ${ack.seq})`,
        );
      } else if (got.version > ack.version) {
        const ok = got.seq !== undefined && got.seq > ack.seq && unackedSeqs.get(id)?.has(got.seq);
        if (!ok) {
          c.unexplained++;
          fail(
            id,
            `${id}: v${got.version} > acknowledged v${ack.version}, document of seq ${got.seq ?? '?'}`,
          );
        }
      }
    }
    return c;
  };

  // Both masters must have applied everything before A and B are compared.
  const t0 = Date.now();
  let sums: { a?: string; b?: string } = {};
  while (Date.now() - t0 < 30_000) {
    sums = { a: await stack.checksum('a'), b: await stack.checksum('b') };
    if (sums.a !== undefined && sums.a === sums.b) break;
    await sleep(1000);
  }
  const checksums = { ...sums, equal: sums.a !== undefined && sums.a === sums.b, waitedMs: Date.now() - t0 };

  const stores: StoreCheck[] = [];
  stores.push(await check('mariadb-a', () => mariadbSnapshot(stack, 'a', ids)));
  stores.push(await check('mariadb-b', () => mariadbSnapshot(stack, 'b', ids)));
  stores.push(await check('redis', () => redisSnapshot(stack, ids)));
  stores.push(await check('api-front', () => apiSnapshot(stack.frontPort, ids)));
  for (const [i, port] of stack.varnishPorts.entries())
    stores.push(await check(`api-varnish-${i + 1}`, () => apiSnapshot(port, ids)));

  // an id that is wrong in two stores counts once
  const union = (names: (s: string) => boolean) =>
    new Set([...badIds].filter(([s]) => names(s)).flatMap(([, set]) => [...set])).size;
  const replication = { a: await stack.replication('a'), b: await stack.replication('b') };
  return {
    ids: ids.length,
    acks: acks.length,
    acksLost: union((s) => s.startsWith('mariadb')),
    staleAfterBound: union((s) => s === 'redis' || s.startsWith('api')),
    versionsBackwards,
    twoDocs: [...docsOf.values()].filter((s) => s.size > 1).length,
    stores,
    replication,
    replicationOk: replicationOk(replication.a) && replicationOk(replication.b),
    checksums,
  };
}

export interface DuringCheck {
  /** ids with an acknowledgement older than the bound when the check ran */
  ids: number;
  /** ids some reader store (Redis, front, a Varnish) served older than that acknowledgement */
  stale: number;
  byStore: Record<string, number | string>;
  examples: string[];
}

/**
 * The bound must hold while a fault lasts, not only after it is healed (a full Redis, a dead node): every
 * write acknowledged more than the bound ago must be what Redis and the API serve now.
 */
export async function checkDuringFault(stack: Stack, acks: Ack[], cutoff: number): Promise<DuringCheck> {
  const want = new Map<number, Ack>();
  for (const a of acks)
    if (a.ackAt <= cutoff && a.version > (want.get(a.id)?.version ?? -1)) want.set(a.id, a);
  const ids = [...want.keys()].sort((a, b) => a - b);
  const out: DuringCheck = { ids: ids.length, stale: 0, byStore: {}, examples: [] };
  if (ids.length === 0) return out;
  const bad = new Set<number>();
  const stores: Array<[string, () => Promise<Snapshot>]> = [
    ['redis', () => redisSnapshot(stack, ids)],
    ['api-front', () => apiSnapshot(stack.frontPort, ids)],
    ...stack.varnishPorts.map((p, i): [string, () => Promise<Snapshot>] => [
      `api-varnish-${i + 1}`,
      () => apiSnapshot(p, ids),
    ]),
  ];
  for (const [name, read] of stores) {
    try {
      const snap = await read();
      let n = 0;
      for (const id of ids) {
        const got = snap.get(id);
        if (!got || got.version < want.get(id)!.version) {
          n++;
          bad.add(id);
          if (out.examples.length < 5)
            out.examples.push(
              `${name} ${id}: acknowledged v${want.get(id)!.version}, ${got ? `served v${got.version}` : 'missing'}`,
            );
        }
      }
      out.byStore[name] = n;
    } catch (e) {
      // A store that cannot answer serves nothing stale; the read errors show in the load's samples.
      out.byStore[name] = `unreadable: ${(e as Error).message}`;
    }
  }
  out.stale = bad.size;
  return out;
}
