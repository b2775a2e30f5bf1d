/**
 * Steady load through the front HAProxy while a fault runs: reader connections doing 50-id bulk reads, a
 * writer doing PUTs at a fixed rate whose acknowledged (2xx) answers go into the ledger, and optional
 * creators (new ids). Every answer becomes a sample (time, status, latency); 5xx bodies are kept.
 * Loops are bounded: they stop when the load is stopped, and every request has a timeout.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { rng } from '../../bench/lib/rng';
import { isJson, Truncation, truncation } from './truncation';

export type Kind = 'read' | 'write' | 'create';

export interface Sample {
  kind: Kind;
  /** ms since the experiment started, when the request was sent */
  t: number;
  ms: number;
  /** 0: no HTTP answer (socket error or timeout, see `err`) */
  status: number;
  err?: string;
  retryAfter?: boolean;
  problem?: boolean;
  /** the last segment of a problem+json answer's `type` (`overloaded`, `unavailable`, ...) */
  problemType?: string;
  /** the body did not arrive whole: a failed request whatever its status (`<status>-truncated`) */
  truncated?: Truncation;
}

/** When the answer (or the failure) came: windows are judged by it, not by when the request was sent. */
export const doneAt = (s: Sample) => s.t + s.ms;

export interface ErrorBody {
  kind: Kind;
  t: number;
  status: number;
  contentType: string;
  retryAfter?: string;
  body: string;
}

export interface Ack {
  id: number;
  seq: number;
  version: number;
  etag: string;
  hash: string;
  sentAt: number;
  ackAt: number;
  status: number;
}

/** Every PUT the writer sent, acknowledged or not: a stored document not in here is unexplained. */
export interface Attempt {
  id: number;
  seq: number;
  acked: boolean;
}

export const WRITE_KEY = 'Bearer local-demo-write-key';

/** Canonical hash of a product document: the same JSON object gives the same hash, whatever its bytes. */
export function docHash(doc: unknown): string {
  const obj: unknown = typeof doc === 'string' ? JSON.parse(doc) : doc;
  return createHash('sha1').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
}

/** The writer's sequence number inside a document's name (`chaos <tag> <id> #<seq>`), or undefined. */
export function seqOf(doc: { name?: Record<string, string> }): number | undefined {
  const m = /#(\d+)$/.exec(doc?.name?.en ?? '');
  return m ? Number(m[1]) : undefined;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body?: string;
  err?: string;
  /** the body did not arrive whole (truncation.ts); `err` says which socket error when `mid-body` */
  truncated?: Truncation;
  ms: number;
}

export class Client {
  readonly agent: http.Agent;
  constructor(
    readonly port: number,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /**
   * One request. Every body is checked for completeness (truncation.ts): its bytes are counted, and a JSON
   * body is kept and parsed; it is returned only when `wantBody` says so (or the answer is an error).
   */
  request(
    method: string,
    p: string,
    opts: {
      body?: string | Buffer;
      headers?: Record<string, string>;
      timeoutMs?: number;
      wantBody?: boolean;
      /** how the body is framed: a Content-Length (default), chunked, or Content-Length + Expect: 100-continue */
      framing?: 'length' | 'chunked' | 'expect';
    } = {},
  ): Promise<Answer> {
    const t0 = performance.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (a: Omit<Answer, 'ms'>) => {
        if (done) return;
        done = true;
        resolve({ ...a, ms: performance.now() - t0 });
      };
      // set once the head has arrived: a socket error after it is a body cut short, not a missing answer
      let cut: ((e: Error & { code?: string }) => void) | undefined;
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path: p,
          agent: this.agent,
          headers: {
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(opts.body !== undefined && opts.framing !== 'chunked'
              ? { 'content-length': String(Buffer.byteLength(opts.body)) }
              : {}),
            ...(opts.framing === 'expect' ? { expect: '100-continue' } : {}),
            ...(opts.headers ?? {}),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const headers = res.headers;
          const contentType = String(headers['content-type'] ?? '');
          const keep = opts.wantBody || status >= 400 || isJson(contentType);
          const noBody = method === 'HEAD' || status === 204 || status === 304;
          const chunks: Buffer[] = [];
          let bytes = 0;
          cut = (e) =>
            finish({
              status,
              headers,
              err: `mid-body ${e.code ?? e.message} after ${bytes} of ${headers['content-length'] ?? '?'} bytes`,
              truncated: 'mid-body',
            });
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (keep) chunks.push(c);
          });
          res.on('end', () => {
            const body = keep ? Buffer.concat(chunks) : undefined;
            const truncated = noBody
              ? undefined
              : truncation({ contentLength: headers['content-length'], contentType, bytes, body });
            finish({
              status,
              headers,
              ...(opts.wantBody || status >= 400 ? { body: body?.toString() } : {}),
              ...(truncated
                ? {
                    truncated,
                    err: `${truncated === 'length' ? `${bytes} of ${headers['content-length']} bytes` : 'body is not JSON'}`,
                  }
                : {}),
            });
          });
          res.on('error', (e) => cut?.(e));
        },
      );
      req.setTimeout(opts.timeoutMs ?? 10_000, () => {
        req.destroy(new Error('timeout'));
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        cut ? cut(e) : finish({ status: 0, headers: {}, err: e.code ?? e.message }),
      );
      if (opts.body === undefined) req.end();
      else if (opts.framing === 'expect') req.on('continue', () => req.end(opts.body));
      else if (opts.framing === 'chunked') {
        req.write(opts.body);
        req.end();
      } else req.end(opts.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadOptions {
  frontPort: number;
  t0: number;
  readers: number;
  /** total reads per second over all reader connections; 0: as fast as they go (closed loop) */
  readRate: number;
  readPaths: string[];
  writeRate: number;
  writeIds: number[];
  tag: string;
  creates?: { rate: number; firstId: number; connections: number };
}

export function bulkPaths(count: number, size: number, from: number, span: number, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const s = new Set<number>();
    while (s.size < size) s.add(from + Math.floor(r() * span));
    return `/v1/products?ids=${[...s].join(',')}`;
  });
}

export class Load {
  readonly samples: Sample[] = [];
  readonly errorBodies: ErrorBody[] = [];
  readonly acks: Ack[] = [];
  readonly attempts: Attempt[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly clients: Client[] = [];
  private static seq = 0;
  private readers: { stop: boolean; loops: Promise<void>[] }[] = [];

  constructor(private readonly o: LoadOptions) {}

  now(): number {
    return Date.now() - this.o.t0;
  }

  start(): void {
    this.addReaders(this.o.readers, this.o.readRate);
    const w = Math.max(1, Math.min(16, Math.ceil(this.o.writeRate / 5)));
    const writeClient = this.client(w);
    // Each writer worker owns its own ids, so writes to one id never overlap and its versions must rise.
    for (let k = 0; k < w; k++) {
      const ids = this.o.writeIds.filter((_, i) => i % w === k);
      this.loops.push(
        this.paced(this.o.writeRate / w, k / this.o.writeRate, (n) =>
          this.put(writeClient, ids[n % ids.length], 'write'),
        ),
      );
    }
    const c = this.o.creates;
    if (c) {
      const cc = this.client(c.connections);
      let next = c.firstId;
      for (let k = 0; k < c.connections; k++)
        this.loops.push(this.paced(c.rate / c.connections, k / c.rate, () => this.put(cc, next++, 'create')));
    }
  }

  /** Extra reader connections (the overload phase); `rate` 0 means closed loop. Returns a stop function. */
  addReaders(n: number, rate: number): () => Promise<void> {
    const client = this.client(n);
    const group = { stop: false, loops: [] as Promise<void>[] };
    const r = rng(n * 7919 + this.o.readPaths.length);
    const read = () => this.get(client, this.o.readPaths[Math.floor(r() * this.o.readPaths.length)]);
    for (let k = 0; k < n; k++)
      group.loops.push(
        rate > 0
          ? this.paced(rate / n, (k / rate) % 1, read, () => group.stop)
          : this.closed(read, () => group.stop),
      );
    this.readers.push(group);
    return async () => {
      group.stop = true;
      await Promise.all(group.loops);
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all([...this.loops, ...this.readers.flatMap((g) => g.loops)]);
    for (const c of this.clients) c.close();
  }

  private client(sockets: number): Client {
    const c = new Client(this.o.frontPort, sockets);
    this.clients.push(c);
    return c;
  }

  private async closed(fn: () => Promise<void>, stopped: () => boolean): Promise<void> {
    while (this.running && !stopped()) await fn();
  }

  /** Calls fn at `rate` per second; a slow call delays the next one (missed slots are skipped, no burst). */
  private async paced(
    rate: number,
    offsetS: number,
    fn: (n: number) => Promise<void>,
    stopped: () => boolean = () => false,
  ): Promise<void> {
    const period = 1000 / rate;
    let next = Date.now() + offsetS * 1000;
    for (let n = 0; this.running && !stopped(); n++) {
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.running || stopped()) break;
      await fn(n);
      next = Math.max(next + period, Date.now());
    }
  }

  private record(kind: Kind, t: number, a: Answer): void {
    const ct = String(a.headers['content-type'] ?? '');
    const s: Sample = { kind, t, ms: a.ms, status: a.status };
    if (a.err) s.err = a.err;
    if (a.truncated) s.truncated = a.truncated;
    if (a.status >= 400) {
      s.retryAfter = a.headers['retry-after'] !== undefined;
      s.problem = ct.startsWith('application/problem+json');
      if (s.problem) s.problemType = problemType(a.body);
    }
    this.samples.push(s);
    if (a.status >= 500 || a.status === 429) {
      this.errorBodies.push({
        kind,
        t,
        status: a.status,
        contentType: ct,
        retryAfter: a.headers['retry-after'],
        body: (a.body ?? '').slice(0, 400),
      });
    }
  }

  private async get(client: Client, p: string): Promise<void> {
    const t = this.now();
    const a = await client.request('GET', p, { timeoutMs: 10_000 });
    this.record('read', t, a);
    // a refused connection fails at once: a closed-loop reader must not spin on it
    if (a.status === 0 && a.ms < 10) await new Promise((r) => setTimeout(r, 50));
  }

  private async put(client: Client, id: number, kind: 'write' | 'create'): Promise<void> {
    const seq = ++Load.seq;
    const body = JSON.stringify({
      sku: kind === 'create' ? `CHAOS-NEW-${id}` : `CHAOS-${id}`,
      status: 'active',
      name: { en: `chaos ${this.o.tag} ${id} #${seq}` },
    });
    const t = this.now();
    const attempt: Attempt = { id, seq, acked: false };
    this.attempts.push(attempt);
    const a = await client.request('PUT', `/v1/products/${id}`, {
      body,
      headers: { authorization: WRITE_KEY },
      timeoutMs: 15_000,
      wantBody: true,
    });
    this.record(kind, t, a);
    if (a.status >= 200 && a.status < 300 && a.body && !a.truncated) {
      try {
        const doc = JSON.parse(a.body) as { version: number; name?: Record<string, string> };
        attempt.acked = true;
        this.acks.push({
          id,
          seq,
          version: doc.version,
          etag: String(a.headers.etag ?? ''),
          hash: docHash(doc),
          sentAt: t,
          ackAt: this.now(),
          status: a.status,
        });
      } catch {
        // a 2xx without a product document: counted as an error sample, not an acknowledgement
        this.samples.push({ kind, t, ms: a.ms, status: 0, err: 'unparseable 2xx body' });
      }
    }
  }
}

function problemType(body: string | undefined): string | undefined {
  try {
    const type = (JSON.parse(body ?? '') as { type?: unknown }).type;
    return typeof type === 'string' ? type.slice(type.lastIndexOf('/') + 1) : undefined;
  } catch {
    return undefined;
  }
}
