import { describe, it } from 'node:test';
import { expect } from 'expect';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nest-cli.json'))) dir = path.dirname(dir);
  return dir;
})();

/** Runs the compiled CLI the way CI does (npm run contract:check), against a given contract file. */
function cli(command: 'drift' | 'breaking', contract: string) {
  return spawnSync(
    process.execPath,
    ['-r', 'tsconfig-paths/register', path.join(__dirname, 'contract.js'), command, '--contract', contract],
    { cwd: ROOT, encoding: 'utf8', env: process.env },
  );
}
const drift = (contract: string) => cli('drift', contract);
const COMMITTED = path.join(ROOT, 'contracts/openapi-v1.json');

/** A copy of the committed contract without POST /v1/products/batch. */
function withoutBatch(): string {
  const doc = JSON.parse(fs.readFileSync(COMMITTED, 'utf8')) as { paths: Record<string, unknown> };
  delete doc.paths['/v1/products/batch'];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'contract-')), 'openapi-v1.json');
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

describe('contract drift', () => {
  it('passes when the committed contract is what the code generates', () => {
    const run = drift(path.join(ROOT, 'contracts/openapi-v1.json'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('fails when the contract differs from the code, naming the change and the command that updates it', () => {
    const run = drift(withoutBatch());
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('+ /paths/~1v1~1products~1batch');
    expect(run.stderr).toContain('npm run contract:generate');
  });
});

describe('contract breaking', () => {
  it('passes the committed contract against the newest release', () => {
    const run = cli('breaking', COMMITTED);
    expect(run.stdout).toContain('no breaking change against contracts/releases/v1.0.0.json');
    expect(run.status).toBe(0);
  });

  it('fails a contract that removes a released operation, naming it', () => {
    const run = cli('breaking', withoutBatch());
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('BREAKING POST /v1/products/batch operation: path removed');
  });
});
