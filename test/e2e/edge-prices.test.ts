import { describe, it } from 'node:test';
import { expect } from 'expect';
import { edge, get, put, sleep } from '../support/edge';
import { freshIds, product, WRITE_KEY } from '../support/stack';

const e = edge();
/** The stated bound (docs/edge.md). */
const BOUND_MS = 2_000;

async function setPrice(id: number, amount: number): Promise<number> {
  const res = await fetch(`${e.service[0]}/v1/prices/de-EUR/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${WRITE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount }),
  });
  return res.status;
}

const amountIn = (body: string) =>
  (JSON.parse(body) as { data: Array<{ price: { amount: number } | null }> }).data[0].price?.amount;

/** Prices live on the second Redis: its own invalidation stream, followed by every node's purger. */
describe('edge invalidation of prices (the second Redis)', () => {
  it('purges every node`s cached composed answer holding a price within the bound, and only those', async () => {
    const [id] = freshIds(1);
    expect((await put(e.service[0], id, product(`EP-${id}`))).status).toBe(201);
    expect(await setPrice(id, 100)).toBe(201);
    const composed = `/v1/products?ids=${id}&market=de-EUR&include=price`;
    const plain = `/v1/products?ids=${id}`;
    for (const v of e.varnish) {
      await get(`${v}${composed}`);
      await get(`${v}${plain}`);
      expect((await get(`${v}${composed}`)).headers.get('x-cache')).toBe('hit');
      expect((await get(`${v}${plain}`)).headers.get('x-cache')).toBe('hit');
    }
    const t0 = performance.now();
    expect(await setPrice(id, 200)).toBe(200);
    for (const v of e.varnish) {
      for (;;) {
        const r = await get(`${v}${composed}`);
        if (amountIn(r.body) === 200) break;
        expect(performance.now() - t0).toBeLessThan(BOUND_MS * 5);
        await sleep(20);
      }
      // The product answer without the price holds no price tag: still the cached copy.
      expect((await get(`${v}${plain}`)).headers.get('x-cache')).toBe('hit');
    }
  });
});
