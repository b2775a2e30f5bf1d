import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { report } from '../support/edge';
import { ROOT } from '../support/stack';

describe('keepalived VIP in front of the HAProxy pair', () => {
  it('moves the VIP to the other HAProxy host when the active HAProxy dies', async () => {
    // Network namespaces, HAProxy and keepalived for real: test/e2e/vip-failover.sh (cleans up after itself).
    const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>(
      (resolve) => {
        const child = spawn('bash', [path.join(ROOT, 'test/e2e/vip-failover.sh')], { env: process.env });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (c) => resolve({ code: c, out, err }));
      },
    );
    if (code !== 0) throw new Error(`vip-failover.sh exited ${code}:\n${err}`);
    const m = /takeover_ms=(\d+) failed_probes=(\d+) from=(\w) to=(\w)/.exec(out);
    expect(m).not.toBeNull();
    const takeoverMs = Number(m![1]);
    report('vip-takeover', {
      takeoverMs,
      failedProbesEvery50ms: Number(m![2]),
      from: `host ${m![3]}`,
      to: `host ${m![4]}`,
      configured: 'track script interval 1 s, fall 2; advert_int 1; FAULT sends priority 0',
    });
    // A failover must happen by itself; its time is the reported figure (1.6-2.5 s over 9 runs, docs/edge.md).
    // The bound, 4x the worst run, only tells "took over" from "did not", also on a busy machine.
    expect(takeoverMs).toBeLessThan(10_000);
  });
});
