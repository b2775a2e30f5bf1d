import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { Connection } from 'mysql2/promise';
import { mysqlServer, waitFor } from '../support/stack';
import { rootSql } from '../support/db-pair';

describe('MariaDB master-master replication', () => {
  let a: Connection;
  let b: Connection;

  before(async () => {
    // DDL: the migrations' account (the service's may not CREATE or DROP).
    [a, b] = await Promise.all([mysqlServer('a', 'migrate'), mysqlServer('b', 'migrate')]);
    await a.query(
      'CREATE TABLE IF NOT EXISTS replication_probe (id BIGINT UNSIGNED PRIMARY KEY, origin CHAR(1)) ENGINE=InnoDB',
    );
    await waitFor(async () => {
      const [rows] = await b.query("SHOW TABLES LIKE 'replication_probe'");
      return (rows as unknown[]).length === 1;
    }, 10_000);
  });

  after(async () => {
    await a.query('DROP TABLE IF EXISTS replication_probe');
    await Promise.all([a.end(), b.end()]);
  });

  const readOn = (conn: Connection, id: number) => async () => {
    const [rows] = await conn.query('SELECT origin FROM replication_probe WHERE id = ?', [id]);
    return (rows as Array<{ origin: string }>)[0]?.origin;
  };

  it('replicates a row written on A to B', async () => {
    const id = Date.now();
    await a.query('INSERT INTO replication_probe VALUES (?, ?)', [id, 'a']);
    expect(await waitFor(readOn(b, id), 10_000)).toBe('a');
  });

  it('replicates a row written on B to A', async () => {
    const id = Date.now() + 1;
    // B is the passive master: read_only (docs/data-safety.md), so the row goes in as root over its socket.
    await rootSql('b', `INSERT INTO catalog.replication_probe VALUES (${id}, 'b')`);
    expect(await waitFor(readOn(a, id), 10_000)).toBe('b');
  });

  it('runs both replication threads on both masters with distinct auto-increment offsets', async () => {
    for (const [which, conn, offset] of [
      ['a', a, 1],
      ['b', b, 2],
    ] as const) {
      const monitor = await mysqlServer(which, 'monitor');
      const [status] = await monitor.query('SHOW SLAVE STATUS');
      await monitor.end();
      const s = (status as Array<Record<string, string>>)[0];
      expect([s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);
      const [vars] = await conn.query(
        'SELECT @@auto_increment_increment AS inc, @@auto_increment_offset AS off, @@log_slave_updates AS lsu',
      );
      expect((vars as Array<Record<string, number>>)[0]).toEqual({ inc: 2, off: offset, lsu: 1 });
    }
  });
});
