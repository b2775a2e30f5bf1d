import { describe, it } from 'node:test';
import { expect } from 'expect';
import { frontActiveTimes, frontEnds, isJson, truncation } from './truncation';

const body = '{"data":[{"id":1,"name":{"en":"Zoë"}}],"missing":[]}';
const bytes = Buffer.byteLength(body);

describe('truncation', () => {
  it('passes a whole JSON answer whose bytes match its Content-Length', () => {
    expect(
      truncation({
        contentLength: String(bytes),
        contentType: 'application/json; charset=utf-8',
        bytes,
        body: Buffer.from(body),
      }),
    ).toBeUndefined();
  });

  it('counts bytes, not characters, against the Content-Length', () => {
    expect(body.length).toBeLessThan(bytes);
    expect(truncation({ contentLength: String(body.length), bytes })).toBe('length');
  });

  it('calls an answer with fewer or more bytes than its Content-Length cut short', () => {
    expect(truncation({ contentLength: '100', bytes: 12 })).toBe('length');
    expect(truncation({ contentLength: '100', bytes: 101 })).toBe('length');
    expect(truncation({ contentLength: '0', bytes: 0 })).toBeUndefined();
  });

  it('calls a JSON body cut short when it does not end as it began, whatever its Content-Length says', () => {
    const cut = Buffer.from(body.slice(0, 20));
    expect(
      truncation({
        contentLength: String(cut.length),
        contentType: 'application/json',
        bytes: cut.length,
        body: cut,
      }),
    ).toBe('json');
    const padded = Buffer.from(`\n ${body} \r\n`);
    expect(
      truncation({
        contentLength: String(padded.length),
        contentType: 'application/json',
        bytes: padded.length,
        body: padded,
      }),
    ).toBeUndefined();
  });

  it('parses a JSON body when nothing else frames it (chunked, or ended by the close)', () => {
    const cut = Buffer.from(body.slice(0, 20));
    expect(truncation({ contentType: 'application/json', bytes: cut.length, body: cut })).toBe('json');
    expect(truncation({ contentType: 'application/json', bytes: 0, body: Buffer.alloc(0) })).toBe('json');
  });

  it('cuts a multi-byte character in two without mistaking the body for whole', () => {
    const whole = Buffer.from(body);
    const cut = whole.subarray(0, whole.indexOf('ë') + 1);
    expect(truncation({ contentType: 'application/json', bytes: cut.length, body: cut })).toBe('json');
  });

  it('does not parse bodies that are not JSON, or that were not kept', () => {
    expect(truncation({ contentType: 'text/html', bytes: 5, body: Buffer.from('<html') })).toBeUndefined();
    expect(truncation({ contentType: 'application/json', bytes: 5 })).toBeUndefined();
  });

  it('knows JSON content types, problem+json included', () => {
    expect(isJson('application/json')).toBe(true);
    expect(isJson('application/problem+json; charset=utf-8')).toBe(true);
    expect(isJson('application/jsonp')).toBe(false);
    expect(isJson('text/plain')).toBe(false);
    expect(isJson(undefined)).toBe(false);
  });
});

describe('frontEnds', () => {
  const line = (status: number, tsc: string, rid = 'r1') =>
    `127.0.0.1:40000 [30/Nov/2026:22:00:00.000] api nodes/node-1 0/0/0/5/5 ${status} 52000 ${tsc} 10/10/3/1/0 0/0 {MISS|node-1} "GET /v1/products?ids=1,2 HTTP/1.1" rid=${rid}`;

  it('counts 200s ended by the server side apart from those the client gave up', () => {
    const log = [
      line(200, '----'),
      line(200, 'SD--', 'cut-1'),
      line(200, 'SH--'),
      line(200, 'sD--'),
      line(200, 'CD--'),
      line(200, 'cD--'),
      line(503, 'SC--'),
      line(-1, 'CR--'),
      '[WARNING]  (123) : Server nodes/node-1 is DOWN, reason: Layer7 wrong status.',
      'unix:1 [30/Nov/2026:22:30:54.933] stats stats/<STATS> 0/0/0/0/0 200 4355 - - LR-- 1/1/0/0/0 0/0 "GET /;csv HTTP/1.1"',
      '',
    ].join('\n');
    const ends = frontEnds(log);
    expect(ends.lines).toBe(8);
    expect(ends.cut200).toBe(3);
    expect(ends.clientAborted200).toBe(2);
    expect(ends.byEnd).toEqual({
      '200 SD--': 1,
      '200 SH--': 1,
      '200 sD--': 1,
      '200 CD--': 1,
      '200 cD--': 1,
      '503 SC--': 1,
      '-1 CR--': 1,
    });
    expect(ends.examples[0]).toContain('rid=cut-1');
  });

  it('finds nothing in a log of normal ends', () => {
    expect(frontEnds([line(200, '----'), line(304, '----')].join('\n'))).toEqual({
      lines: 2,
      cut200: 0,
      clientAborted200: 0,
      byEnd: {},
      examples: [],
    });
  });
});

describe(frontActiveTimes.name, () => {
  const line = (time: string, ta: number, status: number, req = 'GET /v1/products?ids=1,2 HTTP/1.1') =>
    `127.0.0.1:5000 [30/Nov/2026:${time}] front nodes/node-1 0/0/0/1/${ta} ${status} 1234 - - ---- 1/1/0/0/0 0/0 "${req}" rid=x`;
  it('takes %Ta of 2xx GETs of /v1/ that arrived in the window, nothing else', () => {
    const from = new Date('30 Nov 2026 10:00:00').getTime();
    const log = [
      line('09:59:59.999', 500, 200),
      line('10:00:00.000', 7, 200),
      line('10:00:00.500', 9, 304),
      line('10:00:00.600', 40, 503),
      line('10:00:00.700', 3, 200, 'GET /health/ready HTTP/1.1'),
      line('10:00:01.000', 800, 200),
    ].join('\n');
    expect(frontActiveTimes(log, from, from + 1000)).toEqual([7]);
  });
});
