import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '@app/config';
import type { DataSource } from 'typeorm';
import { createDataSource } from '@app/database';

/**
 * Both masters start with read_only ON; the writer's agent opens the one the DB HAProxy routes writes to
 * within a second or two of the stack starting (docs/data-safety.md). Migrations wait for that, at most 60 s.
 */
async function writerOpen(db: DataSource): Promise<void> {
  const until = Date.now() + 60_000;
  for (let said = false; ; said = true) {
    const [{ ro }] = await db.query<Array<{ ro: number }>>('SELECT @@global.read_only AS ro');
    if (Number(ro) === 0) return;
    if (Date.now() > until)
      throw new Error('the MySQL writer stayed read-only for 60 s (see its writer agent log)');
    if (!said)
      process.stdout.write('migrate: waiting for the writer agent to open the writer (read_only OFF)\n');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs pending TypeORM migrations against the writer (schema changes replicate to the other master). */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(
      'usage: npm run migrate\n\nRuns the pending migrations (apps/catalog-service/src/migrations) against the MySQL\n' +
        'writer; connection settings come from the environment, as for the service.\n',
    );
    return;
  }
  const db = createDataSource(loadConfig(), 'writer');
  await db.initialize();
  try {
    await writerOpen(db);
    const done = await db.runMigrations({ transaction: 'each' });
    process.stdout.write(
      done.length
        ? `migrations applied: ${done.map((m) => m.name).join(', ')}\n`
        : 'migrations: up to date\n',
    );
  } finally {
    await db.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`migrate failed: ${(e as Error).message}\n`);
  process.exit(1);
});
