import { describe, it } from 'node:test';
import { expect } from 'expect';
import { gtidCovers, writerVerdict } from './writer-verdict';

const slave = { sqlRunning: true, lastSqlError: '', relayApplied: true };

describe(writerVerdict.name, () => {
  it('is up when it has every transaction of its peer', () => {
    expect(writerVerdict({ currentPos: '1-1-10,2-2-5', slave }, '1-1-10,2-2-5').up).toBe(true);
  });
  it('is down while it lacks a transaction the peer committed', () => {
    expect(writerVerdict({ currentPos: '1-1-10,2-2-4', slave }, '1-1-10,2-2-5').up).toBe(false);
  });
  it('is down after a failover until it applied what the new writer took meanwhile', () => {
    // A was the writer (domain 1), crashed; B took writes in domain 2; A restarted without them.
    expect(writerVerdict({ currentPos: '1-1-500', slave }, '1-1-500,2-2-40').up).toBe(false);
  });
  it('is up with its peer gone once the relay log is applied', () => {
    expect(writerVerdict({ currentPos: '1-1-10', slave }, null).up).toBe(true);
    expect(writerVerdict({ currentPos: '1-1-10', slave: { ...slave, relayApplied: false } }, null).up).toBe(
      false,
    );
  });
  it('is never up when replication stopped on an error', () => {
    const broken = {
      sqlRunning: false,
      lastSqlError: 'Could not execute Delete_rows_v1 event',
      relayApplied: true,
    };
    expect(writerVerdict({ currentPos: '1-1-10', slave: broken }, '1-1-10').up).toBe(false);
    expect(writerVerdict({ currentPos: '1-1-10', slave: broken }, null).up).toBe(false);
  });
});

describe(gtidCovers.name, () => {
  it('compares per domain, ignoring the server id', () => {
    expect(gtidCovers('1-1-10,2-2-7', '2-1-7,1-2-9')).toBe(true);
    expect(gtidCovers('1-1-10', '1-1-10,3-3-1')).toBe(false);
    expect(gtidCovers('', '')).toBe(true);
  });
});
