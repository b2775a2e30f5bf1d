import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { edge, get, purge, sleep } from '../support/edge';

const e = edge();
const unique = () => randomUUID().slice(0, 8);

function varnishCounter(node: number, counter: string): number {
  const r = spawnSync(
    'varnishstat',
    ['-n', path.join(e.stackDir, `varnish-${node}`, 'work'), '-1', '-f', counter],
    { encoding: 'utf8' },
  );
  const m = new RegExp(`^${counter.replace('.', '\\.')}\\s+(\\d+)`, 'm').exec(r.stdout);
  if (!m) throw new Error(`varnishstat ${counter}: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

describe('edge cache (each node: Varnish in front of its service)', () => {
  it('serves the second identical GET from Varnish, on each node', async () => {
    const url = `/v1/products/500?t=${unique()}`;
    for (const varnish of e.varnish) {
      const first = await get(varnish + url);
      const second = await get(varnish + url);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('miss');
      expect(second.headers.get('x-cache')).toBe('hit');
      expect(second.body).toBe(first.body);
      expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
      expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(second.headers.get('x-catalog-tier')).toMatch(/^(redis|mysql)$/);
    }
  });

  it('uses one cache key whatever the tracking parameters and parameter order, but keeps the order of ids', async () => {
    const t = unique();
    const v = e.varnish[0];
    const first = await get(`${v}/v1/products?ids=3,1,2&utm_source=news&t=${t}`);
    expect(first.headers.get('x-cache')).toBe('miss');
    const same = await get(`${v}/v1/products?gclid=abc&t=${t}&fbclid=x&ids=3,1,2&utm_medium=mail`);
    expect(same.headers.get('x-cache')).toBe('hit');
    const reordered = await get(`${v}/v1/products?ids=1,2,3&t=${t}`);
    expect(reordered.headers.get('x-cache')).toBe('miss');
    const ids = (r: string) => (JSON.parse(r) as { data: Array<{ id: number }> }).data.map((p) => p.id);
    expect(ids(same.body)).toEqual([3, 1, 2]);
    expect(ids(reordered.body)).toEqual([1, 2, 3]);
  });

  it('answers If-None-Match with the current ETag through HAProxy with 304, from the service and from Varnish', async () => {
    const url = `${e.front}/v1/products/501?t=${unique()}`;
    const full = await get(url);
    const etag = full.headers.get('etag')!;
    expect(etag).toBe('"p501-v1"');
    // Round robin: these reach both nodes, as misses (the node fetches, then compares) and hits.
    const caches = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get(url, { 'if-none-match': etag });
      expect(r.status).toBe(304);
      expect(r.body).toBe('');
      expect(r.headers.get('etag')).toBe(etag);
      caches.add(`${r.headers.get('x-served-by')}:${r.headers.get('x-cache')}`);
    }
    expect([...caches].some((c) => c.endsWith(':hit'))).toBe(true);
    const list = await get(`${e.front}/v1/products?ids=501,502&t=${unique()}`);
    const r = await get(`${e.front}/v1/products?ids=501,502&t=${unique()}`, {
      'if-none-match': list.headers.get('etag')!,
    });
    expect(r.status).toBe(304);
    // A 304 straight from the service, when Varnish passes the request (credentials):
    const passed = await get(url, { 'if-none-match': etag, authorization: 'Bearer anything' });
    expect(passed.status).toBe(304);
    expect(passed.headers.get('x-cache')).toBe('pass');
  });

  it('serves a stale copy within stale-while-revalidate and revalidates it with a conditional fetch (304)', async () => {
    const url = `${e.varnish[0]}/v1/products/502?t=${unique()}`;
    await get(url);
    expect((await get(url)).headers.get('x-cache')).toBe('hit');
    const before = varnishCounter(1, 'MAIN.fetch_304');
    expect((await purge(e.varnish[0], 'product:502', true)).status).toBe(200);
    const stale = await get(url);
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-cache')).toBe('grace');
    const deadline = Date.now() + 15_000; // a wait for the background fetch, not a bound
    while (varnishCounter(1, 'MAIN.fetch_304') === before && Date.now() < deadline) await sleep(50);
    expect(varnishCounter(1, 'MAIN.fetch_304')).toBeGreaterThan(before);
    expect((await get(url)).headers.get('x-cache')).toBe('hit');
  });

  it('refuses purges from an address outside its ACL (only the node itself may purge)', async () => {
    const url = new URL(e.varnish[0]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'PURGE',
          path: '/',
          headers: { xkey: 'product:1' },
          localAddress: '127.0.0.2',
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('refuses purges without tags and methods it does not know', async () => {
    const r = await purge(e.varnish[0], '');
    expect(r.status).toBe(400);
    const res = await fetch(`${e.varnish[0]}/v1/products/1`, { method: 'BREW' });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('front HAProxy', () => {
  it('denies /metrics and purges from outside with a problem+json 403', async () => {
    for (const [method, url] of [
      ['GET', '/metrics'],
      ['PURGE', '/'],
      ['GET', '/_edge/health'],
    ]) {
      const res = await fetch(e.front + url, { method, headers: { xkey: 'product:1' } });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ type: 'https://catalog.example.com/problems/forbidden', status: 403 });
    }
  });

  it('passes a well-formed request id through, makes one otherwise, and logs it at HAProxy and the node', async () => {
    const id = `e2e-${unique()}`;
    const r = await get(`${e.front}/v1/products/503`, { 'x-request-id': id });
    expect(r.headers.get('x-request-id')).toBe(id);
    const made = await get(`${e.front}/v1/products/503`, { 'x-request-id': 'bad id "quoted"' });
    expect(made.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{10,128}$/);
    // The node's service sees it on a pass (a miss would be fetched by Varnish with the same header).
    const passed = await get(`${e.front}/health/ready`, { 'x-request-id': `${id}-ready` });
    expect(passed.headers.get('x-request-id')).toBe(`${id}-ready`);
    await sleep(200);
    expect(fs.readFileSync(path.join(e.stackDir, 'logs', 'front-haproxy.log'), 'utf8')).toContain(
      `rid=${id}`,
    );
    const served = passed.headers.get('x-served-by')!;
    const httpLog = path.join(e.stackDir, 'logs', served.replace('node', 'service'), 'http.log');
    expect(fs.readFileSync(httpLog, 'utf8')).toContain(`"requestId":"${id}-ready"`);
  });

  it('rate-limits one API key with a problem+json 429 and leaves other keys alone', async () => {
    const cfg = fs.readFileSync(path.join(e.stackDir, 'front-haproxy', 'haproxy.cfg'), 'utf8');
    const limit = Number(/sc_http_req_rate\(0,rate_by_key\) gt (\d+)/.exec(cfg)?.[1]);
    if (!(limit <= 1000))
      throw new Error(
        `the test stack's key limit is ${limit}; scripts/test.sh starts it with FRONT_RATE_LIMIT_KEY=300`,
      );
    const key = `Bearer rate-test-${unique()}`;
    const statuses: number[] = [];
    const worker = async () => {
      while (statuses.length < limit + 30) {
        statuses.push(-1);
        const i = statuses.length - 1;
        const res = await fetch(`${e.front}/health/live`, { headers: { authorization: key } });
        statuses[i] = res.status;
        if (res.status === 429) {
          expect(res.headers.get('content-type')).toBe('application/problem+json');
          expect(res.headers.get('retry-after')).toBe('10');
          const body = (await res.json()) as Record<string, unknown>;
          expect(body).toMatchObject({
            type: 'https://catalog.example.com/problems/rate-limited',
            title: 'Too many requests',
            status: 429,
            instance: '/health/live',
          });
          expect(String(body.detail)).toContain(String(limit));
          expect(body.requestId).toBe(res.headers.get('x-request-id'));
        } else {
          await res.arrayBuffer();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const limited = statuses.filter((s) => s === 429).length;
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(limit - 10);
    expect(limited).toBeGreaterThanOrEqual(20);
    const other = await get(`${e.front}/health/live`, { authorization: `Bearer other-${unique()}` });
    expect(other.status).toBe(200);
  });
});
