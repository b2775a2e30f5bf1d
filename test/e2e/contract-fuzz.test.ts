import { describe, it } from 'node:test';
import { expect } from 'expect';
import { Contract, fuzz } from '../fuzz/contract-fuzz';
import { loadContract, targets } from '../fuzz/run';
import { freshIds, WRITE_KEY } from '../support/stack';

/**
 * Every operation of the contract, fuzzed from the contract (test/fuzz/): a fixed seed and a few thousand
 * requests here, `npm run fuzz` for a longer random run. The build fails on any 5xx, any error body that is
 * not problem+json, any status or content type the contract does not describe, and any 400 to a request
 * drawn from the contract's valid side (the positive cases).
 */
const SEED = 1913;
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);

describe('contract fuzz', () => {
  const contract: Contract = loadContract();

  for (const target of ['direct', 'front'] as const) {
    it(`${target === 'direct' ? 'straight to a service node' : 'through the front HAProxy and Varnish'}: ${RUNS} requests, seed ${SEED}`, async () => {
      const report = await fuzz(contract, {
        port: targets()[target],
        seed: SEED,
        numRuns: RUNS,
        writeKey: WRITE_KEY,
        idBase: freshIds(1)[0],
      });
      process.stdout.write(
        `# ${target}: ${report.requests} requests (${report.positives} drawn valid), statuses ${JSON.stringify(report.statuses)}, ${report.failures.length} failures\n`,
      );
      expect(report.failures.slice(0, 20)).toEqual([]);
      expect(report.requests).toBe(RUNS);
      // The valid side is really exercised: reads and writes succeed.
      expect(report.statuses['200']).toBeGreaterThan(RUNS / 20);
      expect((report.statuses['201'] ?? 0) + (report.statuses['204'] ?? 0)).toBeGreaterThan(0);
    });
  }
});
