import { describe, it } from 'node:test';
import { expect } from 'expect';
import { Cached } from './cached';

describe(Cached.name, () => {
  it('reads once per ttl and shares a read in flight', async () => {
    let t = 0;
    let reads = 0;
    const c = new Cached(
      async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 5));
        return reads;
      },
      1_000,
      () => t,
    );
    expect(await Promise.all([c.get(), c.get(), c.get()])).toEqual([1, 1, 1]);
    t = 999;
    expect(await c.get()).toBe(1);
    t = 1_000;
    expect(await c.get()).toBe(2);
    expect(reads).toBe(2);
  });

  it('does not cache a failed read', async () => {
    let fail = true;
    const c = new Cached(() => (fail ? Promise.reject(new Error('down')) : Promise.resolve('ok')), 60_000);
    await expect(c.get()).rejects.toThrow('down');
    fail = false;
    expect(await c.get()).toBe('ok');
  });
});
