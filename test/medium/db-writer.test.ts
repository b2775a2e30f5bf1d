import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPool, Pool, RowDataPacket } from 'mysql2/promise';
import { readFile } from 'node:fs/promises';
import { agentVerdict, haproxyDb, rootSql, savedErrant, stackPid, stackSh } from '../support/db-pair';
import { freshIds, product, stackEnv, startApp, waitFor, WRITE_KEY } from '../support/stack';

/**
 * The MariaDB pair keeps one writer that has everything: writes go to a master only while it has applied
 * all its peer committed, stay on the master that took over after a failover, and every acknowledged commit
 * is in the peer's relay log first (lossless semi-sync). Runs against the test stack's real pair.
 */
describe('MariaDB writer: agent checks, sticky failover, semi-sync', () => {
  let writer: Pool;
  const env = stackEnv();

  before(() => {
    writer = createPool({
      host: '127.0.0.1',
      port: Number(env.MYSQL_WRITER_PORT),
      user: env.MYSQL_USER,
      password: env.MYSQL_PASSWORD,
      database: env.MYSQL_DATABASE,
      connectionLimit: 2,
      connectTimeout: 2_000,
    });
  });

  after(async () => {
    await writer?.end();
  });

  /** server_id of the master a new writer connection reaches (1 = A, 2 = B); 0 while none answers. */
  const writerServer = async (): Promise<number> => {
    try {
      const c = await writer.getConnection();
      try {
        const [[row]] = await c.query<RowDataPacket[]>('SELECT @@server_id AS id');
        return Number(row.id);
      } finally {
        c.destroy();
      }
    } catch {
      return 0;
    }
  };

  /** Whether the master a new writer connection reaches takes writes (its agent opened it: read_only OFF). */
  const writerOpen = async (): Promise<boolean> => {
    try {
      const [[row]] = await writer.query<RowDataPacket[]>('SELECT @@global.read_only AS ro');
      return Number(row.ro) === 0;
    } catch {
      return false;
    }
  };
  const readOnly = async (x: 'a' | 'b') => (await rootSql(x, 'SELECT @@global.read_only')) === '1';

  it('acknowledges commits only once the peer has them (semi-sync, AFTER_SYNC)', async () => {
    const yes = async () =>
      Number((await rootSql('a', "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'")).split('\t')[1]);
    expect(await rootSql('a', 'SELECT @@rpl_semi_sync_master_wait_point')).toBe('AFTER_SYNC');
    expect(await rootSql('a', "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'")).toMatch(/\tON$/);
    const before = await yes();
    const [id] = freshIds(1);
    await writer.query(
      "INSERT INTO outbox (record_type, record_id, version) VALUES ('semisync-test', ?, 1)",
      [id],
    );
    await writer.query("DELETE FROM outbox WHERE record_type = 'semisync-test'");
    expect(await yes()).toBeGreaterThanOrEqual(before + 2);
  });

  it('never calls the writer behind its peer while it takes writes', async () => {
    // Back-to-back commits through the writer while A's agent is asked over and over: A has every commit
    // first (B gets them from A), so any "down" from A's agent is false and would move writes to B.
    const verdicts: string[] = [];
    let writing = true;
    const writes = Array.from({ length: 4 }, async () => {
      while (writing) {
        const [id] = freshIds(1);
        await writer.query(
          "INSERT INTO outbox (record_type, record_id, version) VALUES ('agent-race', ?, 1)",
          [id],
        );
      }
    });
    try {
      for (let i = 0; i < 60; i++) verdicts.push(await agentVerdict('a'));
    } finally {
      writing = false;
      await Promise.all(writes);
      await writer.query("DELETE FROM outbox WHERE record_type = 'agent-race'");
    }
    expect(verdicts.filter((v) => !v.startsWith('up'))).toEqual([]);
  });

  it('keeps a master that is behind its peer out of the writer pool until it has caught up', async () => {
    await rootSql('b', 'STOP SLAVE SQL_THREAD');
    try {
      const [id] = freshIds(1);
      await writer.query("INSERT INTO outbox (record_type, record_id, version) VALUES ('agent-test', ?, 1)", [
        id,
      ]);
      await waitFor(async () => (await agentVerdict('b')).startsWith('down'), 10_000);
      expect(await agentVerdict('b')).toMatch(/^down #behind its peer/);
      expect(await agentVerdict('a')).toMatch(/^up/);
      // HAProxy has the agent's word: B is not a candidate for writes now.
      await waitFor(async () => /mysql-writer,mariadb-b,.*,DOWN/.test(await haproxyDb('show stat')), 10_000);
    } finally {
      await rootSql('b', 'START SLAVE SQL_THREAD');
      await writer.query("DELETE FROM outbox WHERE record_type = 'agent-test'");
    }
    await waitFor(async () => (await agentVerdict('b')).startsWith('up'), 20_000);
  });

  it('moves writes to B when A dies, keeps them there when A is back, and moves them back on request', async () => {
    expect(await writerServer()).toBe(1);
    try {
      process.kill(await stackPid('mariadb-a'), 'SIGKILL');
      await waitFor(async () => (await writerServer()) === 2, 30_000, 200);
      await waitFor(writerOpen, 10_000, 100);
      const [id] = freshIds(1);
      await writer.query(
        "INSERT INTO outbox (record_type, record_id, version) VALUES ('failover-test', ?, 1)",
        [id],
      );

      await stackSh('start', 'mariadb-a');
      await waitFor(async () => (await agentVerdict('a')).startsWith('up'), 60_000, 250);
      await waitFor(async () => /mysql-writer,mariadb-a,.*,UP/.test(await haproxyDb('show stat')), 10_000);
      // A is healthy and has caught up, and still the writes stay on B: no automatic failback.
      for (let i = 0; i < 5; i++) expect(await writerServer()).toBe(2);
      // ...and A, restarted read-only (my.cnf), stays closed to writes; B is the one open.
      expect(await readOnly('a')).toBe(true);
      expect(await readOnly('b')).toBe(false);
      const [rows] = await writer.query<RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM outbox WHERE record_type = 'failover-test' AND record_id = ?",
        [id],
      );
      expect(Number(rows[0].n)).toBe(1);
    } finally {
      await stackSh('start', 'mariadb-a');
      await waitFor(async () => (await agentVerdict('a')).startsWith('up'), 60_000, 250);
      await stackSh('writer', 'a');
      await waitFor(async () => (await writerServer()) === 1 && (await writerOpen()), 10_000, 100);
      await writer.query("DELETE FROM outbox WHERE record_type = 'failover-test'");
    }
    expect(await writerServer()).toBe(1);
    // Replication runs both ways after all this.
    for (const x of ['a', 'b'] as const) {
      // Slave_running: both replication threads run (no SQL thread stopped on a diverged row).
      await waitFor(
        async () => /\tON$/.test(await rootSql(x, "SHOW GLOBAL STATUS LIKE 'Slave_running'")),
        20_000,
      );
    }
  });

  it('re-clones a crashed writer that comes back with a transaction the new writer never had', async () => {
    expect(await writerServer()).toBe(1);
    const [id] = freshIds(1);
    const agentB = await stackPid('db-agent-b');
    const errantRows = (x: 'a' | 'b') =>
      rootSql(
        x,
        `SELECT COUNT(*) FROM catalog.outbox WHERE record_type = 'errant-test' AND record_id = ${id}`,
      );
    const savedBefore = await savedErrant();
    try {
      // A transaction in A's binlog that B never receives: B's agent paused (it would restart B's replication),
      // B's I/O thread stopped, a row written on A as root (semi-sync times out after 2 s), then A is killed.
      process.kill(agentB, 'SIGSTOP');
      await rootSql('b', 'STOP SLAVE IO_THREAD');
      await rootSql(
        'a',
        `INSERT INTO catalog.outbox (record_type, record_id, version) VALUES ('errant-test', ${id}, 1)`,
      );
      process.kill(await stackPid('mariadb-a'), 'SIGKILL');
      process.kill(agentB, 'SIGCONT');
      // New writer connections (this wait opens some) reach B once it is open: the sticky entry names B.
      await waitFor(async () => (await writerServer()) === 2 && (await writerOpen()), 30_000, 200);
      // A comes back with that transaction: the stack's start finds it errant and re-clones A from B.
      await stackSh('start', 'mariadb-a');
      expect(await errantRows('b')).toBe('0');
      expect(await errantRows('a')).toBe('0');
      const saved = (await savedErrant()).filter((f) => !savedBefore.includes(f));
      expect(saved).toHaveLength(1);
      // kept for a person, readable (mariadb-binlog -v) and replayable
      expect(await readFile(saved[0], 'utf8')).toContain('errant-test');
      for (const x of ['a', 'b'] as const) {
        await waitFor(
          async () => /\tON$/.test(await rootSql(x, "SHOW GLOBAL STATUS LIKE 'Slave_running'")),
          20_000,
        );
      }
      expect(await rootSql('a', 'CHECKSUM TABLE catalog.outbox')).toBe(
        await rootSql('b', 'CHECKSUM TABLE catalog.outbox'),
      );
    } finally {
      process.kill(agentB, 'SIGCONT');
      await stackSh('start', 'mariadb-a');
      await waitFor(async () => (await agentVerdict('a')).startsWith('up'), 60_000, 250);
      await stackSh('writer', 'a');
      await waitFor(async () => (await writerServer()) === 1 && (await writerOpen()), 10_000, 100);
    }
  });

  it('answers 503 problem+json with Retry-After, not 500, while no master takes writes', async () => {
    const app: NestFastifyApplication = await startApp();
    try {
      for (const s of ['mariadb-a', 'mariadb-b']) await haproxyDb(`set server mysql-writer/${s} state maint`);
      for (const s of ['mariadb-a', 'mariadb-b'])
        await haproxyDb(`shutdown sessions server mysql-writer/${s}`);
      const [id] = freshIds(1);
      const res = await app.inject({
        method: 'PUT',
        url: `/v1/products/${id}`,
        headers: { authorization: `Bearer ${WRITE_KEY}` },
        payload: product(`U-${id}`),
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.json()).toMatchObject({ status: 503, type: expect.stringMatching(/unavailable/) });
    } finally {
      for (const s of ['mariadb-a', 'mariadb-b']) await haproxyDb(`set server mysql-writer/${s} state ready`);
      await app.close();
      // With no master routed, both agents closed theirs; A's opens again now that it is routed.
      await waitFor(writerOpen, 10_000, 100);
    }
  });

  it('closes a master that writer sessions still reach once HAProxy routes writes elsewhere (the split)', async () => {
    expect(await writerServer()).toBe(1);
    // A session on A from before the split, as a service pool would hold it.
    const old = await writer.getConnection();
    try {
      await old.query('SELECT 1');
      // New writer connections go to B while A's sessions stay: drained A, sticky entry cleared.
      await haproxyDb('set server mysql-writer/mariadb-a state drain');
      await haproxyDb('clear table mysql-writer');
      await waitFor(async () => (await writerServer()) === 2, 10_000, 100);
      // A's agent closes A and cuts the writer sessions HAProxy still holds to it; B opens only after that.
      await waitFor(async () => (await readOnly('a')) && !(await readOnly('b')), 10_000, 100);
      const [id] = freshIds(1);
      const late = await old
        .query("INSERT INTO outbox (record_type, record_id, version) VALUES ('split-test', ?, 1)", [id])
        .then(
          () => 'written',
          (e: { code?: string; message?: string }) => e.code ?? e.message ?? 'error',
        );
      // refused (ER_OPTION_PREVENTS_STATEMENT) or cut (the connection is closed): never written
      expect(late).not.toBe('written');
      expect(await rootSql('a', `SELECT COUNT(*) FROM catalog.outbox WHERE record_id = ${id}`)).toBe('0');
    } finally {
      old.destroy();
      await haproxyDb('set server mysql-writer/mariadb-a state ready');
      await stackSh('writer', 'a');
      await waitFor(async () => (await writerServer()) === 1 && (await writerOpen()), 10_000, 100);
    }
    expect(await readOnly('b')).toBe(true);
  });
});
