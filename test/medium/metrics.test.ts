import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { commandCalls, freshIds, product, redis, ROOT, startApp, WRITE_KEY } from '../support/stack';

/** Metric names (catalog_*) an expression file uses, without the histogram/summary suffixes. */
function namesUsedIn(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const names = new Set(
    [...text.matchAll(/\bcatalog_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')),
  );
  return [...names];
}

describe('GET /metrics', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let body: string;

  before(async () => {
    app = await startApp({ METRICS_CACHE_MS: '60000' });
    r = redis();
    const [id] = freshIds(1);
    const auth = { authorization: `Bearer ${WRITE_KEY}` };
    await app.inject({
      method: 'PUT',
      url: `/v1/products/${id}`,
      headers: auth,
      payload: product(`MET-${id}`),
    });
    await app.inject({ method: 'GET', url: `/v1/products/${id}` });
    await app.inject({ method: 'GET', url: `/v1/products?ids=1,2,${freshIds(1)[0]}` });
    await app.inject({ method: 'GET', url: '/v1/products/0' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    body = res.body;
  });

  after(async () => {
    await app.close();
    r.disconnect();
  });

  it('passes promtool check metrics', () => {
    const out = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('exports what only the service knows: write room, pools, outbox, tiering, reads by tier', () => {
    for (const series of [
      /^catalog_redis_evictable_bytes\{redis="primary"\} \d+$/m,
      /^catalog_mysql_pool_size\{pool="writer"\} \d+$/m,
      /^catalog_outbox_backlog_rows \d+$/m,
      /^catalog_tiering_budget_bytes [1-9]\d*$/m,
      /^catalog_tiering_persistent_bytes \d+$/m,
      /^catalog_reads_total\{type="product",tier="redis"\} [1-9]\d*$/m,
      /^catalog_reads_total\{type="product",tier="missing"\} [1-9]\d*$/m,
      /^catalog_http_request_duration_seconds_count\{method="GET",route="\/v1\/products\/:id",status="400"\} 1$/m,
    ]) {
      expect(body).toMatch(series);
    }
  });

  it('leaves Redis INFO and MySQL replication to the exporters (redis_exporter, mysqld_exporter)', () => {
    expect(body).not.toMatch(
      /^catalog_(redis_(up|keys|expires|expire_ratio|used_memory_bytes)|mysql_(up|replication_\w+|semi_sync_\w+))\b/m,
    );
  });

  it('has every catalog_* series the alert rules and the dashboard use', () => {
    const exported = new Set([...body.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    const used = [
      ...namesUsedIn('infra/prometheus/alerts.yml'),
      ...namesUsedIn('infra/grafana/catalog-service.json'),
    ];
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('serves repeated scrapes from its cache instead of asking Redis again', async () => {
    const before = await commandCalls(r, 'info');
    for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: '/metrics' });
    // Sentinel asks INFO every 10 s, hence one call of slack.
    expect((await commandCalls(r, 'info')) - before).toBeLessThanOrEqual(1);
  });
});
