import { describe, it } from 'node:test';
import { expect } from 'expect';
import { formatSeconds, Progress } from './progress';

function fakeOut(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

describe(Progress.name, () => {
  it('writes a line with rate and ETA every 2 s to a log, and nothing in between', () => {
    let now = 0;
    const { writes, out } = fakeOut(false);
    const p = new Progress(50_000, 'products', out, 2_000, () => now);
    now = 2_000;
    p.update(10_000);
    now = 3_000;
    p.update(15_000);
    now = 4_000;
    p.update(20_000);
    expect(writes).toEqual([
      '  10,000 of 50,000 products (20 %), 5,000/s, ETA 8 s\n',
      '  20,000 of 50,000 products (40 %), 5,000/s, ETA 6 s\n',
    ]);
  });

  it('redraws a bar in place on a terminal', () => {
    let now = 0;
    const { writes, out } = fakeOut(true);
    const p = new Progress(100, 'keys', out, 2_000, () => now);
    now = 500;
    p.update(50);
    p.end();
    expect(writes[0]).toBe('\r[###############...............] 50 of 100 keys (50 %), 100/s, ETA 1 s');
    expect(writes[1]).toBe('\r\x1b[K');
  });

  it('formats durations a person reads', () => {
    expect(formatSeconds(0.2)).toBe('1 s');
    expect(formatSeconds(75)).toBe('1 min 15 s');
    expect(formatSeconds(7_500)).toBe('2 h 5 min');
    expect(formatSeconds(Infinity)).toBe('?');
  });
});
