import { describe, it } from 'node:test';
import { expect } from 'expect';
import {
  edge,
  frontNodes,
  get,
  put,
  report,
  sleep,
  startStack,
  stopComponent,
  versionIn,
} from '../support/edge';

// Issue 12, item 3: purges are soft, so after a write each Varnish keeps the purged copy as a stale copy for an
// outage, and never serves it while its service is healthy (api-v1: no read returns the old version once the
// purge has been confirmed).
const e = edge();

async function document(id: number): Promise<Record<string, unknown>> {
  const p = JSON.parse((await get(`${e.service[0]}/v1/products/${id}`)).body) as Record<string, unknown>;
  for (const k of ['id', 'version', 'updatedAt', 'createdAt']) delete p[k];
  return p;
}

describe('edge: stale copies for outages (soft purge + grace)', () => {
  it('never serves a purged copy while the service is healthy, and serves it when the service is down', async () => {
    const healthyId = 630;
    const outageId = 631;
    const v1 = e.varnish[0];
    for (const id of [healthyId, outageId]) {
      const r = await get(`${v1}/v1/products/${id}`);
      expect(r.status).toBe(200);
      expect((await get(`${v1}/v1/products/${id}`)).headers.get('x-cache')).toBe('hit');
    }
    const before = {
      healthy: versionIn(await get(`${v1}/v1/products/${healthyId}`))!,
      outage: versionIn(await get(`${v1}/v1/products/${outageId}`))!,
    };
    // Written through node 1: its service purges its own Varnish before it answers.
    const written = new Map<number, number>();
    for (const id of [healthyId, outageId]) {
      const w = await put(v1, id, { ...(await document(id)), brand: `stale-test-${Date.now()}` });
      expect([200, 201]).toContain(w.status);
      written.set(id, (JSON.parse(w.body) as { version: number }).version);
    }
    // Healthy: every read is the version just written (a refetch, not the purged copy). The version the
    // write answered, not the cached one plus one: a copy cached before an earlier write may be older.
    expect(written.get(healthyId)).toBeGreaterThan(before.healthy);
    for (let i = 0; i < 20; i++) {
      const r = await get(`${v1}/v1/products/${healthyId}`);
      expect({ status: r.status, version: versionIn(r) }).toEqual({
        status: 200,
        version: written.get(healthyId),
      });
    }

    // The outage: node 1's service dies. Its Varnish still holds the purged copy of outageId, within grace.
    let stale;
    const cacheControl = (await get(`${v1}/v1/products/${healthyId}`)).headers.get('cache-control') ?? '';
    try {
      await stopComponent('service-1', 'SIGKILL');
      stale = await get(`${v1}/v1/products/${outageId}`);
      const uncached = await get(`${v1}/v1/products/${outageId}?never-cached=${Date.now()}`);
      report('stale-copy-after-write', {
        purge: 'soft (xkey.softpurge)',
        staleStatus: stale.status,
        staleCache: stale.headers.get('x-cache'),
        staleVersion: versionIn(stale),
        versionBeforeWrite: before.outage,
        uncachedStatus: uncached.status,
        graceFromCacheControl: /stale-if-error=(\d+)/.exec(cacheControl)?.[1] ?? null,
      });
      expect({
        status: stale.status,
        cache: stale.headers.get('x-cache'),
        version: versionIn(stale),
      }).toEqual({
        status: 200,
        cache: 'grace',
        version: before.outage,
      });
      expect(uncached.status).toBe(503);
    } finally {
      await startStack();
    }
    const t0 = Date.now();
    while ((await frontNodes())['node-1'] !== 'UP') {
      if (Date.now() - t0 > 30_000) throw new Error('node-1 did not come back');
      await sleep(100);
    }
    // Back and healthy: the purged copy is no longer served.
    const after = await get(`${v1}/v1/products/${outageId}`);
    expect(versionIn(after)).toBe(written.get(outageId));
  });
});
