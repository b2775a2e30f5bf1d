import { describe, it } from 'node:test';
import { expect } from 'expect';
import { spawnSync } from 'node:child_process';
import { stackEnv } from '../support/stack';

describe('GET /metrics on a running node', () => {
  it('passes promtool check metrics and reports the write room and the reads by tier', async () => {
    const port = stackEnv().SERVICE_PORTS.split(',')[0];
    await fetch(`http://127.0.0.1:${port}/v1/products?ids=1,2`);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    const out = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(body).toMatch(/^catalog_redis_evictable_bytes\{redis="primary"\} \d+$/m);
    expect(body).toMatch(/^catalog_reads_total\{type="product",tier="redis"\} [1-9]\d*$/m);
  });

  it("is scraped by the stack's Prometheus, with each node's Varnish exporter, both Redis and the front HAProxy", async () => {
    const prometheus = stackEnv().PROMETHEUS_URL;
    const want = [
      'catalog:1',
      'catalog:2',
      'varnish:1',
      'varnish:2',
      'haproxy:front',
      'redis:redis-primary',
      'redis:redis-prices-primary',
    ];
    let have: string[] = [];
    // The e2e start adds the nodes to a running Prometheus (a reload): their first scrape within 15 s.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${prometheus}/api/v1/targets?state=active`);
      const targets = (
        (await res.json()) as {
          data: { activeTargets: Array<{ labels: Record<string, string>; health: string }> };
        }
      ).data.activeTargets;
      have = targets
        .filter((t) => t.health === 'up')
        .map((t) => `${t.labels.job}:${t.labels.node ?? t.labels.haproxy ?? t.labels.redis ?? ''}`);
      if (want.every((w) => have.includes(w))) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(have).toEqual(expect.arrayContaining(want));
  });
});
