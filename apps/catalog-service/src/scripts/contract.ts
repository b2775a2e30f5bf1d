import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '@app/config';
import {
  AcceptedBreak,
  applyAcceptedBreaks,
  canonicalJson,
  changedPointers,
  findBreakingChanges,
  formatBreak,
  majorOfVersion,
} from '@app/contract';
import { CONTRACT_FILE, generateOpenApi } from '../openapi';

/**
 *   contract generate   writes contracts/openapi-v1.json from the code (no Redis or MySQL needed)
 *   contract drift      exits 1 when the committed contract differs from the code [--contract FILE]
 *   contract breaking   exits 1 when contracts/openapi-v1.json breaks the newest contracts/releases/*.json [--contract FILE]
 */
const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nest-cli.json'))) dir = path.dirname(dir);
  return dir;
})();
const UPDATE = 'npm run contract:generate';
const RELEASES = 'contracts/releases';
const ACCEPTED = 'contracts/accepted-breaks.json';

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
}

/** The newest release by semver: contracts/releases/v1.0.0.json, v1.2.0.json, ... */
function latestRelease(): string {
  const parse = (f: string) => /^v(\d+)\.(\d+)\.(\d+)\.json$/.exec(f)?.slice(1).map(Number);
  const files = fs
    .readdirSync(path.join(ROOT, RELEASES))
    .filter((f) => parse(f))
    .sort((a, b) => {
      const [x, y] = [parse(a)!, parse(b)!];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
  if (files.length === 0) throw new Error(`no release in ${RELEASES}/ (expected v1.0.0.json)`);
  return `${RELEASES}/${files[files.length - 1]}`;
}

function breaking(file: string): number {
  const release = latestRelease();
  const releaseMajor = majorOfVersion(path.basename(release));
  const entries = fs.existsSync(path.join(ROOT, ACCEPTED))
    ? ((readJson(ACCEPTED) as { accepted?: AcceptedBreak[] }).accepted ?? [])
    : [];
  const verdict = applyAcceptedBreaks(
    findBreakingChanges(readJson(release), JSON.parse(fs.readFileSync(file, 'utf8'))),
    entries,
    releaseMajor,
  );
  for (const { break: b, entry } of verdict.accepted) {
    process.stdout.write(`accepted (${entry.approvedBy}: ${entry.reason}): ${formatBreak(b)}\n`);
  }
  if (verdict.breaks.length === 0 && verdict.invalid.length === 0) {
    process.stdout.write(`${CONTRACT_FILE}: no breaking change against ${release}\n`);
    return 0;
  }
  if (verdict.breaks.length) {
    process.stderr.write(
      `${CONTRACT_FILE} breaks ${release} (what frontends were promised):\n` +
        verdict.breaks.map((b) => `  BREAKING ${formatBreak(b)}\n`).join('') +
        'Keep the old behaviour and add beside it (new optional field, new endpoint, new version): ' +
        'docs/adding-an-endpoint.md and docs/api-lifecycle.md.\n',
    );
  }
  if (verdict.invalid.length) {
    process.stderr.write(
      `${ACCEPTED} has entries that cannot be honoured:\n` + verdict.invalid.map((m) => `  ${m}\n`).join(''),
    );
  }
  return 1;
}

async function generated(): Promise<string> {
  // Defaults only: the document must not depend on the environment of whoever generates it.
  return canonicalJson(await generateOpenApi(loadConfig({})));
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  // --contract FILE: check another copy (the drift test uses it); the default is the committed file.
  const at = args.indexOf('--contract');
  const file = at >= 0 ? path.resolve(args[at + 1]) : path.join(ROOT, CONTRACT_FILE);
  switch (command) {
    case 'generate': {
      const text = await generated();
      const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      process.stdout.write(
        before === text
          ? `${CONTRACT_FILE}: up to date\n`
          : `${CONTRACT_FILE}: written; review and commit it\n`,
      );
      return 0;
    }
    case 'drift': {
      const text = await generated();
      const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      if (committed === text) {
        process.stdout.write(`${CONTRACT_FILE}: matches the code\n`);
        return 0;
      }
      const changes = committed
        ? changedPointers(JSON.parse(committed), JSON.parse(text))
        : ['(the file is missing)'];
      process.stderr.write(
        `${CONTRACT_FILE} differs from the OpenAPI document the code generates:\n` +
          changes
            .slice(0, 30)
            .map((c) => `  ${c}\n`)
            .join('') +
          (changes.length > 30 ? `  ... and ${changes.length - 30} more\n` : '') +
          `Update it with:\n  ${UPDATE}\nthen review the diff (git diff ${CONTRACT_FILE}) and commit it.\n`,
      );
      return 1;
    }
    case 'breaking':
      return breaking(file);
    default:
      process.stderr.write(USAGE + '\n');
      return 2;
  }
}

const USAGE = `usage: contract generate|drift|breaking
  generate   write the OpenAPI document the code generates to contracts/openapi-v1.json (npm run contract:generate)
  drift      fail when the committed document differs from the code       (npm run contract:check runs
  breaking   fail when it breaks the last release in contracts/releases/    drift, then breaking)`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`contract: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
