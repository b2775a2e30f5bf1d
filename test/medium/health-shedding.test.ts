import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startApp } from '../support/stack';

/** Blocks the event loop, as a burst of work would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * Load shedding: after the event loop was blocked, requests get a 503 problem+json with Retry-After at once,
 * while liveness, readiness and metrics keep answering (a busy node stays in rotation). The thresholds are
 * low and the sampling fast so a single block shows; the block is long against them (20x the delay
 * threshold), so it shows on a busy machine too.
 */
describe('load shedding', () => {
  let app: NestFastifyApplication;

  before(async () => {
    app = await startApp({
      SHED_SAMPLE_MS: '100',
      SHED_MAX_EVENT_LOOP_DELAY_MS: '50',
      SHED_MAX_EVENT_LOOP_UTILIZATION: '0',
      SHED_MAX_HEAP_RATIO: '0',
    });
  });

  after(async () => {
    await app?.close();
  });

  it('answers 503 problem+json with Retry-After under pressure, and never sheds health or metrics', async () => {
    const get = (url: string) => app.inject({ method: 'GET', url });
    let shedRead: Awaited<ReturnType<typeof get>> | undefined;
    let attempts = 0;
    while (!shedRead && attempts < 20) {
      attempts++;
      block(1_000);
      // The sampler's timer, overdue, runs before this one: the requests below see its verdict.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const [readRes, live, ready, metrics] = await Promise.all([
        get('/v1/products?ids=1,2'),
        get('/health/live'),
        get('/health/ready'),
        get('/metrics'),
      ]);
      expect(live.statusCode).toBe(200);
      expect(ready.statusCode).toBe(200);
      expect(metrics.statusCode).toBe(200);
      if (readRes.statusCode === 503) shedRead = readRes;
      else expect(readRes.statusCode).toBe(200);
    }
    process.stdout.write(`load shedding: a read was shed after ${attempts} block(s) of 1 s\n`);
    if (!shedRead) throw new Error(`no read was shed after ${attempts} blocks of the event loop`);
    expect(shedRead.headers['content-type']).toBe('application/problem+json');
    expect(shedRead.headers['retry-after']).toBe('2');
    expect(shedRead.headers['x-request-id']).toBeDefined();
    expect(shedRead.json()).toMatchObject({
      type: 'https://catalog.example.com/problems/overloaded',
      status: 503,
      instance: '/v1/products',
    });

    // Once the loop is free again, the next samples lift it.
    const deadline = Date.now() + 30_000;
    let res = await get('/v1/products?ids=1,2');
    while (res.statusCode === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await get('/v1/products?ids=1,2');
    }
    expect(res.statusCode).toBe(200);
    expect((await get('/metrics')).body).toMatch(
      /^catalog_shed_requests_total\{reason="eventLoopDelay"\} [1-9]/m,
    );
  });
});
