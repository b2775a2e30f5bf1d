import * as net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One request over its own TCP connection, written byte for byte: malformed request lines, bad percent
 * escapes, oversized headers and broken chunking reach the server as sent (an HTTP client would refuse or
 * repair them). The connection is closed after the answer, so a response ends at EOF.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // Not end(): Node's server drops a request whose client half-closes before the answer.
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A server may reset after answering (it refused the rest of the request): what arrived still counts.
    socket.on('error', (e) => (chunks.length ? finish() : reject(e)));
    socket.on('close', () => finish());
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
  });
}

/** A request with `Connection: close` and Content-Length set when there is a body. */
export function buildRequest(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined && !names.has('content-length') && !names.has('transfer-encoding')) {
    lines.push(`Content-Length: ${payload.length}`);
  }
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
}

export function parseResponse(raw: Buffer): RawResponse {
  // Interim answers (100 Continue) come first; the final one follows.
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw.subarray(0, 13).toString('latin1'))) {
    const next = raw.indexOf('\r\n\r\n');
    if (next < 0) break;
    raw = raw.subarray(next + 4);
  }
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0)
    throw new Error(`not an HTTP response: ${JSON.stringify(raw.subarray(0, 200).toString('latin1'))}`);
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  else if (headers['content-length'] !== undefined)
    body = body.subarray(0, Number(headers['content-length']));
  return { status: Number(m[1]), headers, body };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** A 4xx/5xx must be RFC 9457: the media type and the members every problem carries. */
export function problemDefect(res: RawResponse): string | undefined {
  const type = (res.headers['content-type'] ?? '').split(';')[0].trim();
  if (type !== 'application/problem+json')
    return `content-type ${JSON.stringify(res.headers['content-type'] ?? null)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return `body is not JSON: ${JSON.stringify(res.body.subarray(0, 80).toString('latin1'))}`;
  }
  for (const k of ['type', 'title', 'detail']) if (typeof body[k] !== 'string') return `no "${k}" string`;
  if (body.status !== res.status) return `"status" ${String(body.status)} differs from ${res.status}`;
  if (typeof body.instance !== 'string' && typeof body.requestId !== 'string')
    return 'neither instance nor requestId';
  return undefined;
}
