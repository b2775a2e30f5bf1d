import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getHeapStatistics } from 'node:v8';
import { Counter } from 'prom-client';
import { AppConfig } from '@app/config';
import { PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from '@app/errors';
import { Metrics } from '@app/metrics';

/**
 * Never shed: liveness and readiness (a busy node is alive, and must not leave rotation only because it is
 * busy: HAProxy would move its load onto the others, which are as busy) and the metrics that show the load.
 */
const NEVER_SHED = /^\/(health\/|metrics$)/;

/**
 * Load shedding with @fastify/under-pressure: every SHED_SAMPLE_MS it samples the event-loop delay (mean),
 * the event-loop utilisation of that interval and the heap; while one is over its threshold every request
 * (but the ones above) gets a 503 problem+json with Retry-After at once, before any work is done, instead of
 * waiting in a queue that makes every answer late (docs/errors.md, "Backing off").
 */
export async function registerLoadShedding(
  fastify: FastifyInstance,
  config: AppConfig,
  metrics: Metrics,
): Promise<void> {
  const heapLimit = getHeapStatistics().heap_size_limit;
  const maxHeapUsedBytes =
    config.SHED_MAX_HEAP_RATIO > 0 ? Math.floor(heapLimit * config.SHED_MAX_HEAP_RATIO) : 0;
  if (
    config.SHED_MAX_EVENT_LOOP_DELAY_MS === 0 &&
    config.SHED_MAX_EVENT_LOOP_UTILIZATION === 0 &&
    maxHeapUsedBytes === 0
  )
    return;
  const shed = new Counter({
    name: 'catalog_shed_requests_total',
    help: 'Requests answered 503 at once because the node was overloaded, by what was over its threshold',
    labelNames: ['reason'] as const,
    registers: [metrics.registry],
  });
  const retryAfter = String(config.RETRY_AFTER_SECONDS);
  await fastify.register(underPressure, {
    sampleInterval: config.SHED_SAMPLE_MS,
    maxEventLoopDelay: config.SHED_MAX_EVENT_LOOP_DELAY_MS,
    maxEventLoopUtilization: config.SHED_MAX_EVENT_LOOP_UTILIZATION,
    eventLoopUtilizationMode: 'interval',
    maxHeapUsedBytes,
    // Returning nothing lets the request through; a value other than a promise is what the plugin sends
    // (its handlePressure), though its types only allow void.
    pressureHandler: ((req: FastifyRequest, reply: FastifyReply, type: string) => {
      const path = req.url.split('?')[0];
      if (NEVER_SHED.test(path)) return undefined;
      shed.inc({ reason: type });
      void reply
        .code(503)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .header('retry-after', retryAfter)
        .header('cache-control', 'no-store');
      return Buffer.from(
        JSON.stringify({
          type: PROBLEM_BASE + 'overloaded',
          title: 'Overloaded',
          status: 503,
          detail: `The service is overloaded; retry after ${retryAfter} s (Retry-After).`,
          instance: path,
          requestId: String(req.id),
        }),
      );
    }) as unknown as (req: FastifyRequest, reply: FastifyReply, type: string) => void,
  });
}
