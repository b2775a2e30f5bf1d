import * as fs from 'node:fs';
import * as path from 'node:path';
import { edge } from '../support/edge';
import { freshIds, ROOT, WRITE_KEY } from '../support/stack';
import { Contract, fuzz } from './contract-fuzz';

/**
 *   npm run fuzz [-- --runs N] [--seed S] [--target direct|front|both]
 * The longer, random-seeded run of the CI fuzz (test/e2e/contract-fuzz.test.ts) against a started stack
 * (STACK_NAME / STACK_PORT_OFFSET as for the tests). A failure prints the seed to replay it.
 */
export function loadContract(): Contract {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'contracts/openapi-v1.json'), 'utf8')) as Contract;
}

export function targets(): Record<'direct' | 'front', number> {
  const e = edge();
  return { direct: Number(new URL(e.service[0]).port), front: Number(new URL(e.front).port) };
}

async function main(): Promise<number> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const runs = Number(arg('runs') ?? 20_000);
  const seed = Number(arg('seed') ?? Date.now() % 2 ** 31);
  const which = arg('target') ?? 'both';
  const ports = targets();
  let failed = 0;
  for (const name of ['direct', 'front'] as const) {
    if (which !== 'both' && which !== name) continue;
    const report = await fuzz(loadContract(), {
      port: ports[name],
      seed,
      numRuns: runs,
      writeKey: WRITE_KEY,
      idBase: freshIds(1)[0],
    });
    process.stdout.write(
      `${name}: seed ${seed}, ${report.requests} requests (${report.positives} valid), statuses ${JSON.stringify(report.statuses)}, ${report.failures.length} failures\n`,
    );
    for (const f of report.failures.slice(0, 50)) process.stdout.write(`  ${f.slice(0, 400)}\n`);
    if (report.failures.length) {
      const file = path.join(ROOT, `.stack/fuzz-${name}-${seed}.log`);
      fs.writeFileSync(file, report.failures.join('\n') + '\n');
      process.stdout.write(`  all failures, in full: ${file}\n`);
    }
    failed += report.failures.length;
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
