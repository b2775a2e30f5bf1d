import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '@app/config';
import { createDataSource } from '@app/database';

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
