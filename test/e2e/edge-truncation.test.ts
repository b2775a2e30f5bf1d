import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { privateVarnish, report } from '../support/edge';

// Issue 12: "126 HTTP 200 answers were cut off mid-body (HAProxy end state SD--)". A Varnish that streams a
// miss sends the service's 200 and headers before the body has arrived; when the fetch then fails half-way
// (between_bytes_timeout, or the service closing) it can only close the connection, and the client holds a
// 200 cut short. The VCL stores cacheable answers whole first (do_stream = false, docs/edge.md "Truncated
// 200s"): this test fails when that goes. The service here is a stand-in that stalls after half its body,
// since the real one cannot be made to stall mid-body on purpose; the Varnish and its VCL are the real ones.
describe('edge: a fetch that fails mid-body is never a 200 cut short', () => {
  it('answers 503 problem+json, whole, when the service stalls half-way through a cacheable answer', async () => {
    const sockets = new Set<import('node:net').Socket>();
    let stalled = 0;
    const service = http.createServer((req, res) => {
      if (req.url?.startsWith('/health/')) {
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('ok');
        return;
      }
      stalled++;
      const body = JSON.stringify({ data: [{ id: 1, sku: 'x'.repeat(20_000) }], missing: [] });
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'public, max-age=60, stale-if-error=86400',
        etag: '"p1-v1"',
        xkey: 'product:1',
      });
      // half the body, then nothing: past the backend's between_bytes_timeout (5 s)
      res.write(body.slice(0, body.length >> 1));
    });
    service.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const varnish = await privateVarnish((service.address() as AddressInfo).port).catch(
      async (e: unknown) => {
        await new Promise((r) => service.close(r));
        throw e;
      },
    );
    try {
      // the probe must call the stand-in healthy first (a sick backend is not asked at all)
      for (let i = 0; i < 100; i++) {
        const r = await fetch(`${varnish.url}/health/ready`).catch(() => undefined);
        if (r?.status === 200) break;
        await new Promise((r2) => setTimeout(r2, 100));
      }
      const t0 = performance.now();
      const res = await fetch(`${varnish.url}/v1/products/1`);
      const text = await res.text().catch((e: Error) => {
        throw new Error(`a ${res.status} cut short mid-body: ${e.message} (${String(e.cause)})`);
      });
      report('edge-fetch-fails-mid-body', {
        status: res.status,
        contentType: res.headers.get('content-type'),
        bodyBytes: Buffer.byteLength(text),
        fetchesOfTheStandIn: stalled,
        ms: Math.round(performance.now() - t0),
      });
      expect(stalled).toBeGreaterThan(0);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(Buffer.byteLength(text)).toBe(
        Number(res.headers.get('content-length') ?? Buffer.byteLength(text)),
      );
      expect((JSON.parse(text) as { status: number }).status).toBe(503);
    } finally {
      await varnish.stop();
      for (const s of sockets) s.destroy();
      await new Promise((r) => service.close(r));
    }
  });
});
