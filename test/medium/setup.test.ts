import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/stack';

/**
 * `npm run setup` on a machine that has everything: it must call neither apt nor npm (no root, no network),
 * however often it runs. apt-get, apt, sudo and npm are replaced by fakes first on PATH that record the call
 * and fail; node is the one running this test (setup installs Node 24 when `node` is older).
 */
describe('scripts/setup.sh run again', () => {
  const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-setup-fakes-'));
  const calls = path.join(fake, 'calls.log');

  before(() => {
    for (const tool of ['apt-get', 'apt', 'sudo', 'npm']) {
      fs.writeFileSync(
        path.join(fake, tool),
        `#!/bin/sh\necho "${tool} $*" >>'${calls}'\necho "fake ${tool}: setup must not call me" >&2\nexit 97\n`,
        { mode: 0o755 },
      );
    }
  });

  after(() => fs.rmSync(fake, { recursive: true, force: true }));

  const setup = () =>
    spawnSync(path.join(ROOT, 'scripts/setup.sh'), [], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${fake}:${path.dirname(process.execPath)}:${process.env.PATH}` },
      timeout: 120_000,
    });

  it('calls neither apt nor npm when everything is installed, twice in a row', () => {
    for (const run of [1, 2]) {
      const res = setup();
      const calledFakes = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : '';
      expect({ run, status: res.status, calledFakes, stderr: res.stderr }).toEqual({
        run,
        status: 0,
        calledFakes: '',
        stderr: '',
      });
      expect(res.stdout).toMatch(/^\[setup\] Debian packages: all \d+ present$/m);
      expect(res.stdout).toMatch(/^\[setup\] node: v(2[4-9]|[3-9]\d)\.\d+\.\d+ \(>= 24\)$/m);
      expect(res.stdout).toMatch(/^\[setup\] npm: node_modules is up to date with package-lock.json$/m);
    }
  });

  it('runs on the Node.js major that package.json promises', () => {
    const engines = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    expect(engines).toMatch(/^\^24\./);
    expect(Number(process.versions.node.split('.')[0])).toBe(24);
  });
});
