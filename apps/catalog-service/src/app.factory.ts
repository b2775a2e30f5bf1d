import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '@app/config';
import { ProblemFilter } from '@app/errors';
import { AppLogger, requestContext } from '@app/logger';
import { Metrics } from '@app/metrics';
import { AppModule } from './app.module';
import { registerLoadShedding } from './load-shedding';
import { API_VERSIONING, buildOpenApi } from './openapi';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BATCH_ROUTE = '/v1/products/batch';

export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    logger: false,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Outlives the idle timeouts of Varnish and HAProxy, so they never reuse a socket we are closing.
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
  });
  const fastify = adapter.getInstance<FastifyInstance>();
  // JSON only: anything else is a 415, not a string handed to the validators.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onRoute', (route) => {
    if (route.url === BATCH_ROUTE) route.bodyLimit = config.BATCH_BODY_LIMIT_BYTES;
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
  });
  const logger = app.get(AppLogger);
  const metrics = app.get(Metrics);
  app.useLogger(logger);
  app.enableVersioning(API_VERSIONING);
  app.useGlobalFilters(new ProblemFilter(logger));

  const http = logger.channel('http');
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    requestContext.run({ requestId: String(req.id) }, done);
  });
  // After the request-id hook, so a shed request still gets its X-Request-Id.
  await registerLoadShedding(fastify, config, metrics);
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: req.method, route, status: reply.statusCode }, seconds);
    if (http.isEnabled('http')) {
      http.http('request', {
        method: req.method,
        url: req.url,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        tier: reply.getHeader('x-catalog-tier'),
        remote: req.headers['x-forwarded-for'] ?? req.ip,
      });
    }
    done();
  });

  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'v1/openapi.json', raw: ['json'] });
  return app;
}
