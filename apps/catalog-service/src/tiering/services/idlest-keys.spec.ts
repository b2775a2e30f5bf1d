import { describe, it } from 'node:test';
import { expect } from 'expect';
import { IdlestKeys } from './idlest-keys';

describe(IdlestKeys.name, () => {
  it('keeps only the idlest keys, and returns them idlest first', () => {
    const heap = new IdlestKeys(3);
    const idle = [5, 100, 7, 42, 0, 99, 3, 100];
    idle.forEach((s, i) => heap.offer(`k${i}`, s));
    expect(heap.size).toBe(3);
    const out = heap.drain();
    expect(out.map((c) => c.idle)).toEqual([100, 100, 99]);
    expect(out.map((c) => c.key).sort()).toEqual(['k1', 'k5', 'k7']);
    expect(heap.size).toBe(0);
  });

  it('matches a full sort on random input', () => {
    const heap = new IdlestKeys(50);
    const all: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = Math.floor(Math.random() * 10_000);
      all.push(s);
      heap.offer(`k${i}`, s);
    }
    const expected = all.sort((a, b) => b - a).slice(0, 50);
    expect(heap.drain().map((c) => c.idle)).toEqual(expected);
  });

  it('holds nothing with capacity 0', () => {
    const heap = new IdlestKeys(0);
    heap.offer('k', 10);
    expect(heap.drain()).toEqual([]);
  });
});
