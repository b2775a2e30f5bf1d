import { describe, it } from 'node:test';
import { expect } from 'expect';
import {
  gtidCovers,
  readOnlyPlan,
  replicationState,
  RouteServer,
  routedWriter,
  writerReplication,
  writerVerdict,
} from './writer-verdict';

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
  it('is up with its peer gone and its replication stopped cleanly once the relay log is applied', () => {
    const stopped = { sqlRunning: false, lastSqlError: '', relayApplied: true };
    expect(writerVerdict({ currentPos: '1-1-10', slave: stopped }, null).up).toBe(true);
    expect(writerVerdict({ currentPos: '1-1-10', slave: { ...stopped, relayApplied: false } }, null).up).toBe(
      false,
    );
  });
  it('stays up as the cut-off writer when its peer comes back with transactions it never had', () => {
    const stopped = { sqlRunning: false, lastSqlError: '', relayApplied: true };
    const self = { currentPos: '1-1-10,2-2-50', slave: stopped };
    expect(writerVerdict({ ...self, cutOffWriter: true }, '1-1-11,2-2-50').up).toBe(true);
    expect(writerVerdict({ ...self, cutOffWriter: false }, '1-1-11,2-2-50').up).toBe(false);
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

const a = (status: string, sessions = 0): RouteServer => ({
  name: 'mariadb-a',
  status,
  backup: false,
  sessions,
});
const b = (status: string, sessions = 0): RouteServer => ({
  name: 'mariadb-b',
  status,
  backup: true,
  sessions,
});

describe(routedWriter.name, () => {
  it('follows the sticky entry while its server takes connections, drained included', () => {
    expect(routedWriter('mariadb-b', [a('UP'), b('UP')])).toBe('mariadb-b');
    expect(routedWriter('mariadb-a', [a('DRAIN'), b('UP')])).toBe('mariadb-a');
    expect(routedWriter('mariadb-b', [a('UP'), b('UP 1/2')])).toBe('mariadb-b');
  });
  it('without a usable entry: the active server if up, else the backup', () => {
    expect(routedWriter(null, [a('UP'), b('UP')])).toBe('mariadb-a');
    expect(routedWriter('mariadb-a', [a('DOWN'), b('UP')])).toBe('mariadb-b');
    expect(routedWriter(null, [a('DRAIN'), b('UP')])).toBe('mariadb-b');
    expect(routedWriter('mariadb-b', [a('MAINT'), b('DOWN 1/2')])).toBe(null);
  });
});

describe(readOnlyPlan.name, () => {
  const upV = { up: true, why: 'has everything' } as const;
  const downV = { up: false, why: 'behind its peer' } as const;
  it('closes a master HAProxy does not route writes to, and cuts its writer sessions', () => {
    expect(readOnlyPlan('mariadb-a', { writer: 'mariadb-b', sessions: 3 }, upV, true)).toMatchObject({
      readOnly: true,
      cutSessions: true,
    });
    expect(readOnlyPlan('mariadb-a', { writer: null, sessions: 0 }, upV, null)).toMatchObject({
      readOnly: true,
      cutSessions: false,
    });
  });
  it('opens the routed writer only once it has everything and its peer is closed or gone', () => {
    expect(readOnlyPlan('mariadb-b', { writer: 'mariadb-b', sessions: 1 }, upV, true).readOnly).toBe(false);
    expect(readOnlyPlan('mariadb-b', { writer: 'mariadb-b', sessions: 1 }, upV, null).readOnly).toBe(false);
    expect(readOnlyPlan('mariadb-b', { writer: 'mariadb-b', sessions: 1 }, downV, true).readOnly).toBe(true);
    expect(readOnlyPlan('mariadb-b', { writer: 'mariadb-b', sessions: 1 }, upV, false).readOnly).toBe(true);
  });
  it('changes nothing when the DB HAProxy cannot be asked', () => {
    expect(readOnlyPlan('mariadb-a', null, upV, true)).toMatchObject({ readOnly: null, cutSessions: false });
  });
});

describe(writerReplication.name, () => {
  it('keeps a closed master replicating from the writer', () => {
    expect(writerReplication(false, false, '1-1-10', null).run).toBe(true);
  });
  it('stops pulling from a peer it cannot reach', () => {
    expect(writerReplication(true, true, '1-1-10,2-2-5', null).run).toBe(false);
  });
  it('pulls again once the peer has nothing it lacks', () => {
    expect(writerReplication(true, false, '1-1-10,2-2-50', '1-1-10,2-2-40').run).toBe(true);
  });
  it('keeps a peer with an errant transaction cut off', () => {
    // B took over at A's 1-1-10; A restarted with 1-1-11, written to its binlog but never sent.
    expect(writerReplication(true, false, '1-1-10,2-2-50', '1-1-11,2-2-50')).toMatchObject({ run: false });
  });
  it('keeps running replication running while the peer stays reachable', () => {
    expect(writerReplication(true, true, '1-1-10,2-2-50', '1-1-11,2-2-50').run).toBe(true);
  });
});

describe(replicationState.name, () => {
  const row = (io: string, sql: string, error = '') => ({
    Slave_IO_Running: io,
    Slave_SQL_Running: sql,
    Last_SQL_Error: error,
    Master_Log_File: 'b-bin.000001',
    Relay_Master_Log_File: 'b-bin.000001',
    Read_Master_Log_Pos: 400,
    Exec_Master_Log_Pos: 400,
  });
  it('counts an open writer whose I/O thread is stopped as cut off, whatever its SQL thread does', () => {
    // chaos mariadb-writer-kill-unsent: only the I/O thread was stopped when A opened; B came back errant.
    const s = replicationState(true, row('No', 'Yes'));
    expect(s).toMatchObject({ replicating: false, cutOffWriter: true });
    expect(writerVerdict({ currentPos: '1-1-10,2-2-50', ...s }, '1-1-10,2-2-51').up).toBe(true);
  });
  it('does not count a writer still pulling, or a closed master, or a stopped SQL error as cut off', () => {
    expect(replicationState(true, row('Connecting', 'Yes')).cutOffWriter).toBe(false);
    expect(replicationState(false, row('No', 'No')).cutOffWriter).toBe(false);
    expect(replicationState(true, row('No', 'No', 'Could not execute Delete_rows')).cutOffWriter).toBe(false);
  });
  it('reports no replication where none is configured', () => {
    expect(replicationState(true, undefined)).toEqual({
      replicating: false,
      cutOffWriter: false,
      slave: null,
    });
  });
});
