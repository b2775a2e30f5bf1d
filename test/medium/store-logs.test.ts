import { describe, it } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mysqlServer, stackEnv } from '../support/stack';

const logs = path.join(stackEnv().STACK_DIR, 'logs');

async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not within the time given');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("MariaDB's logs in the stack's log folder", () => {
  it('has the error log of both masters, with their replication start', () => {
    for (const x of ['a', 'b']) {
      const all = fs.readFileSync(path.join(logs, `mariadb-${x}-error.log`), 'utf8');
      // the log is appended to across restarts: since the last start only
      const text = all.slice(all.lastIndexOf('[Note] Starting MariaDB'));
      expect(all).toMatch(/Slave (I\/O|SQL) thread/);
      expect(text).toMatch(/ready for connections/);
      // log_warnings=1: the writer agents' short connections leave no warning per connection
      expect(text).not.toMatch(/Aborted connection \d+ to db: 'unconnected' user: 'monitor'/);
    }
  });

  it('writes a statement over long_query_time to the slow log', async () => {
    const marker = `slow_log_check_${Date.now()}`;
    const c = await mysqlServer('a');
    try {
      await c.query(`SELECT SLEEP(0.6) AS ${marker}`);
    } finally {
      await c.end();
    }
    const file = path.join(logs, 'mariadb-a-slow.log');
    await eventually(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(marker));
  });
});
