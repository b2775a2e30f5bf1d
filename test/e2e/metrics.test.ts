import { describe, it } from 'node:test';
import { expect } from 'expect';
import { spawnSync } from 'node:child_process';
import { stackEnv } from '../support/stack';

describe('GET /metrics on a running node', () => {
  it('passes promtool check metrics and reports the Redis expire ratio', async () => {
    const port = stackEnv().SERVICE_PORTS.split(',')[0];
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    const out = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(body).toMatch(/^catalog_redis_expire_ratio\{redis="primary"\} [\d.e-]+$/m);
    expect(body).toMatch(/^catalog_mysql_replication_running\{server="a",thread="sql"\} 1$/m);
  });
});
