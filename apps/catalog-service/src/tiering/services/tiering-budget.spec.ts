import { describe, it } from 'node:test';
import { expect } from 'expect';
import { budgetOf, estimatePersistent, jitteredTtl } from './tiering-budget';

describe('tiering budget', () => {
  it('takes the byte budget when set, else a share of maxmemory, else none', () => {
    expect(budgetOf(1000, 0.5, 4000)).toEqual({ bytes: 1000, source: 'bytes' });
    expect(budgetOf(0, 0.5, 4000)).toEqual({ bytes: 2000, source: 'ratio' });
    expect(budgetOf(0, 0.5, 0)).toEqual({ bytes: 0, source: 'none' });
  });

  it('estimates persistent memory from the persistent keys of the sample only', () => {
    const samples = [
      { persistent: true, bytes: 1000 },
      { persistent: true, bytes: 1200 },
      { persistent: false, bytes: 50 },
      { persistent: false, bytes: 50 },
    ];
    const e = estimatePersistent(500, 1000, 999_999, samples);
    expect(e).toMatchObject({ bytes: 550_000, avgKeyBytes: 1100, sampledPersistent: 2, method: 'sample' });
  });

  it('falls back to the dataset share when the sample holds no persistent key', () => {
    const e = estimatePersistent(10, 1000, 100_000, [{ persistent: false, bytes: 80 }]);
    expect(e).toMatchObject({ bytes: 1000, avgKeyBytes: 100, method: 'dataset-share' });
  });

  it('jitters the TTL within the configured share', () => {
    expect(jitteredTtl(1000, 0.2, () => 0)).toBe(800);
    expect(jitteredTtl(1000, 0.2, () => 1)).toBe(1200);
    expect(jitteredTtl(1, 0.9, () => 0)).toBe(1);
  });
});
