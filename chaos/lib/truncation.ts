/**
 * Truncated answers (issue 12: "126 HTTP 200 answers were cut off mid-body, HAProxy end state SD--"), seen
 * from both ends: the load generator checks every body it receives, and the front HAProxy's log says how
 * each answer it relayed ended. Pure functions, so the checks themselves have small tests.
 */

/**
 * How an answer fell short: `mid-body` the connection failed (reset, closed, timed out) after the head
 * arrived; `length` it ended cleanly with another byte count than its Content-Length; `json` a JSON answer
 * whose body does not parse (the only check an answer delimited by the connection's close allows).
 */
export type Truncation = 'mid-body' | 'length' | 'json';

export interface Received {
  /** the Content-Length header as received, when there was one */
  contentLength?: string;
  contentType?: string;
  /** body bytes received */
  bytes: number;
  /** the body, when it was kept (JSON answers) */
  body?: Buffer;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** Whether a content type is JSON (`application/json`, `application/problem+json`, ...). */
export const isJson = (contentType: string | undefined) => JSON_TYPE.test(contentType ?? '');

/**
 * Why an answer that ended cleanly and carries a body (not HEAD, 204 or 304) is incomplete, or undefined
 * when it is whole: received bytes equal its Content-Length when it has one, and a JSON body parses. (A
 * connection that fails after the head is `mid-body`: the client sees the socket error.)
 *
 * A JSON body is parsed only when nothing else frames it (chunked, or delimited by the connection's close):
 * parsing a 50-id bulk answer (50 KB) takes ~0.5 ms, 10 % of a core at the chaos load's 200 reads/s, on the
 * two cores the stack needs. With a Content-Length the byte count is exact, and the body need only end as
 * it began (`{...}`, `[...]`).
 */
export function truncation(r: Received): Truncation | undefined {
  if (r.contentLength !== undefined && Number(r.contentLength) !== r.bytes) return 'length';
  if (r.body === undefined || !isJson(r.contentType)) return undefined;
  if (r.contentLength !== undefined && closes(r.body)) return undefined;
  try {
    JSON.parse(r.body.toString('utf8'));
    return undefined;
  } catch {
    return 'json';
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const CLOSER: Record<number, number> = { 0x7b: 0x7d, 0x5b: 0x5d, 0x22: 0x22 }; // { } [ ] " "

/** The body's last byte (past whitespace) closes what its first opened; false for anything else. */
function closes(b: Buffer): boolean {
  let i = 0;
  let j = b.length - 1;
  while (i < b.length && WS.has(b[i])) i++;
  while (j > i && WS.has(b[j])) j--;
  return j > i && CLOSER[b[i]] === b[j];
}

/**
 * What the front HAProxy's log says about how its answers ended. Its log-format
 * (infra/haproxy/front.cfg.tmpl) is `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc ...`; the
 * termination state `%tsc` is `----` for a normal end. HAProxy 2.6 configuration.txt, "Session state at
 * disconnection": the first letter is who ended it (C client, S server, P proxy, ...; lower case: a
 * timeout), the second in which phase (H waiting for the server's headers, D data transfer, ...).
 */
export interface FrontEnds {
  /** request lines parsed */
  lines: number;
  /** answers with status 200 that ended on the server's side or the proxy's (SD, SH, sD, PD, ...): cut short */
  cut200: number;
  /** answers with status 200 the client gave up during the transfer (CD, cD: wrk's end of run, timeouts) */
  clientAborted200: number;
  /** every abnormal end, `<status> <tsc>` -> count */
  byEnd: Record<string, number>;
  /** up to five log lines of cut 200s (their rid= leads to Varnish's and the service's lines) */
  examples: string[];
}

const LINE = /^\S+ \[[^\]]*\] \S+ \S+ \S+ (-?\d+) \S+ (\S{4}) /;

export function frontEnds(log: string): FrontEnds {
  const out: FrontEnds = { lines: 0, cut200: 0, clientAborted200: 0, byEnd: {}, examples: [] };
  for (const line of log.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.lines++;
    const [, status, tsc] = m;
    if (tsc[0] === '-') continue;
    const key = `${status} ${tsc}`;
    out.byEnd[key] = (out.byEnd[key] ?? 0) + 1;
    if (status !== '200') continue;
    if (tsc[0] === 'C' || tsc[0] === 'c') out.clientAborted200++;
    else {
      out.cut200++;
      if (out.examples.length < 5) out.examples.push(line);
    }
  }
  return out;
}

const TIMED =
  /^\S+ \[(\d+)\/(\w+)\/(\d+):(\d+):(\d+):(\d+)\.(\d+)\] \S+ \S+ -?\d+\/-?\d+\/-?\d+\/-?\d+\/(\d+) (2\d\d) .* "GET \/v1\//;

/**
 * %Ta (active time: from the request's first byte until the answer's last, queueing included) of every
 * 2xx GET of /v1/ in the front's log whose request arrived (%tr, the host's local time) in [from, to), both
 * epoch ms.
 */
export function frontActiveTimes(log: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (const line of log.split('\n')) {
    const m = TIMED.exec(line);
    if (!m) continue;
    const [, day, mon, year, hh, mm, ss, ms] = m;
    const t = new Date(`${day} ${mon} ${year} ${hh}:${mm}:${ss}`).getTime() + Number(ms);
    if (t >= from && t < to) out.push(Number(m[8]));
  }
  return out;
}
