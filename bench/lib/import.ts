import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { demoProductRow, SEED_TIME } from '../../apps/catalog-service/src/scripts/demo-catalog';

export interface ImportResult {
  rows: number;
  importSeconds: number;
  importRowsPerSec: number;
  loadDataSeconds: number;
  loadDataRowsPerSec: number;
}

interface Options {
  rows: number;
  env: Record<string, string>;
  /** The stack's secrets.env: DDL, LOAD DATA and the reset's TRUNCATE need the migrations' account. */
  secrets: Record<string, string>;
  seed: string;
  work: string;
  log: (s: string) => void;
}

/**
 * import: `npm run seed` of N products into an emptied catalog (MySQL and Redis).
 * load-data: LOAD DATA LOCAL INFILE of the same N rows into an empty copy of the table (MySQL only);
 * the file is written beforehand and not timed. Both are timed until the writer (mariadb-a) acknowledges;
 * each starts only once mariadb-b has applied everything before it.
 */
export async function importScenario({
  rows,
  env,
  secrets,
  seed,
  work,
  log,
}: Options): Promise<ImportResult> {
  const migrate = { MYSQL_USER: secrets.MYSQL_MIGRATE_USER, MYSQL_PASSWORD: secrets.MYSQL_MIGRATE_PASSWORD };
  const file = path.join(work, `load-data-${rows}.tsv`);
  if (!fs.existsSync(file)) {
    log(`writing ${rows} rows for LOAD DATA (not timed)`);
    const out = fs.openSync(file + '.tmp', 'w');
    const ts = SEED_TIME.toISOString().slice(0, 23).replace('T', ' ');
    for (let id = 1; id <= rows; id++) {
      const r = demoProductRow(id);
      fs.writeSync(out, `${id}\t${r.sku}\t${r.status}\t1\t${r.doc}\t${ts}\t${ts}\n`);
    }
    fs.closeSync(out);
    fs.renameSync(file + '.tmp', file);
  }

  const db = await createConnection({
    host: env.MYSQL_WRITER_HOST,
    port: Number(env.MYSQL_WRITER_PORT),
    user: migrate.MYSQL_USER,
    password: migrate.MYSQL_PASSWORD,
    database: env.MYSQL_DATABASE,
    infileStreamFactory: () => fs.createReadStream(file),
  });
  // Each timed phase starts with the stores idle: B applies what A committed (a whole LOAD DATA arrives
  // as one transaction after its commit), and Redis finishes an AOF rewrite the reset may have started;
  // neither may land inside the next phase's time.
  const settled = async () => {
    const redis = new Redis(env.REDIS_URL);
    try {
      while (/aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(await redis.info('persistence')))
        await new Promise((r) => setTimeout(r, 200));
    } finally {
      redis.disconnect();
    }
    // A's own domain only: B never receives its own transactions back from A.
    const [[{ all, domain }]] = (await db.query(
      'SELECT @@gtid_binlog_pos AS `all`, @@gtid_domain_id AS domain',
    )) as unknown as [[{ all: string; domain: number }]];
    const pos = all
      .split(',')
      .filter((g) => g.startsWith(`${domain}-`))
      .join(',');
    if (!pos) return;
    const b = await createConnection({
      host: '127.0.0.1',
      port: Number(env.MYSQL_B_PORT),
      user: env.MYSQL_USER,
      password: env.MYSQL_PASSWORD,
      database: env.MYSQL_DATABASE,
    });
    try {
      const [[{ ok }]] = (await b.query('SELECT MASTER_GTID_WAIT(?, 300) AS ok', [pos])) as unknown as [
        [{ ok: number }],
      ];
      if (ok !== 0) throw new Error(`mariadb-b did not catch up with ${pos} within 300 s`);
    } finally {
      await b.end();
    }
  };
  try {
    await db.query('DROP TABLE IF EXISTS products_loaddata');
    await db.query('CREATE TABLE products_loaddata LIKE products');
    await settled();
    log(`load-data: ${rows} rows`);
    const t0 = process.hrtime.bigint();
    await db.query(
      `LOAD DATA LOCAL INFILE 'rows.tsv' INTO TABLE products_loaddata FIELDS TERMINATED BY '\\t' ESCAPED BY ''
       LINES TERMINATED BY '\\n' (id, sku, status, version, doc, created_at, updated_at)`,
    );
    const loadDataSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await settled();
    await db.query('DROP TABLE products_loaddata');

    const run = (args: string[], as: Record<string, string> = {}) =>
      execFileSync('node', [seed, ...args, '--quiet'], {
        env: { ...process.env, ...env, ...as },
        stdio: 'inherit',
      });
    run(['--reset', '--products', '0'], migrate);
    await settled();
    log(`import: npm run seed -- --append --products ${rows} (into the emptied catalog)`);
    const t1 = process.hrtime.bigint();
    run(['--append', '--products', String(rows)]);
    const importSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    return {
      rows,
      importSeconds,
      importRowsPerSec: rows / importSeconds,
      loadDataSeconds,
      loadDataRowsPerSec: rows / loadDataSeconds,
    };
  } finally {
    await db.end();
  }
}
