import { describe, it } from 'node:test';
import { expect } from 'expect';
import { MissCoalescer } from './miss-coalescer';

describe(MissCoalescer.name, () => {
  it('loads ids requested in the same tick with one call', async () => {
    const calls: number[][] = [];
    const c = new MissCoalescer<string>((ids) => {
      calls.push(ids);
      return Promise.resolve(new Map(ids.filter((id) => id !== 3).map((id) => [id, `doc${id}`])));
    });
    const [a, b] = await Promise.all([c.load([1, 2, 3]), c.load([3, 4])]);
    expect(calls).toEqual([[1, 2, 3, 4]]);
    expect(a).toEqual(['doc1', 'doc2', null]);
    expect(b).toEqual([null, 'doc4']);
  });

  it('joins a load already in flight instead of starting another', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: number[][] = [];
    const c = new MissCoalescer<string>(async (ids) => {
      calls.push(ids);
      await gate;
      return new Map(ids.map((id) => [id, `d${id}`]));
    });
    const first = c.load([7]);
    await new Promise((r) => setImmediate(r));
    const second = c.load([7, 8]);
    release();
    expect(await first).toEqual(['d7']);
    expect(await second).toEqual(['d7', 'd8']);
    expect(calls).toEqual([[7], [8]]);
  });

  it('chunks a large burst at the batch limit', async () => {
    const calls: number[][] = [];
    const c = new MissCoalescer<number>((ids) => {
      calls.push(ids);
      return Promise.resolve(new Map(ids.map((id) => [id, id])));
    }, 2);
    await c.load([1, 2, 3, 4, 5]);
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects every waiter when the load fails, and retries on the next request', async () => {
    let fail = true;
    const c = new MissCoalescer<number>((ids) =>
      fail ? Promise.reject(new Error('down')) : Promise.resolve(new Map(ids.map((id) => [id, id]))),
    );
    await expect(c.load([1])).rejects.toThrow('down');
    fail = false;
    await expect(c.load([1])).resolves.toEqual([1]);
  });
});
