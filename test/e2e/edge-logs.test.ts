import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { edge, get, sleep } from '../support/edge';

const e = edge();

function linesWith(file: string, needle: string): string[] {
  const p = path.join(e.stackDir, 'logs', file);
  if (!fs.existsSync(p)) return [];
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle));
}

describe('edge logs, greppable by request id', () => {
  it("has a request's line in the front HAProxy's log and in its node's Varnish access log", async () => {
    const rid = `logs-${randomUUID()}`;
    const res = await get(`${e.front}/v1/products?ids=1,2`, { 'x-request-id': rid });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(rid);
    let front: string[] = [];
    let varnish: string[] = [];
    for (let i = 0; i < 100 && (front.length === 0 || varnish.length === 0); i++) {
      await sleep(100);
      front = linesWith('front-haproxy.log', `rid=${rid}`);
      varnish = [1, 2].flatMap((n) => linesWith(`varnish-${n}-access.log`, `rid=${rid}`));
    }
    expect(front).toHaveLength(1);
    expect(varnish).toHaveLength(1);
    expect(varnish[0]).toMatch(/"GET \S+\/v1\/products\?ids=1,2 HTTP\/1\.1" 200 \d+ (hit|miss) /);
  });

  it("leaves the health checks out of Varnish's access log", () => {
    for (const n of [1, 2]) expect(linesWith(`varnish-${n}-access.log`, '/health')).toEqual([]);
  });
});
