import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '@app/config';
import { PROBLEM_CONTENT_TYPE, ProblemFilter, rawProblemResponse, toProblem } from '@app/errors';
import { AppLogger, requestContext } from '@app/logger';
import { Metrics } from '@app/metrics';
import { AppModule } from './app.module';
import { registerLoadShedding } from '@catalog/common/load-shedding';
import { API_VERSIONING, buildOpenApi } from './openapi';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BATCH_ROUTE = '/v1/products/batch';

/*
 * Errors found before a route runs are problem+json too (docs/errors.md): Node's HTTP parser (a broken
 * request line or header, bad chunking, headers over the limit, a timeout), Fastify's router (a bad percent
 * escape in the path, a path parameter over the length limit) and an `Expect` other than 100-continue.
 */
const PARSER_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request did not arrive in time'],
};

function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] = PARSER_ERRORS[err.code ?? ''] ?? [400, 'the request is not valid HTTP/1.1'];
  // As Node does: never write into a response that has already started on this socket.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !current?.headersSent)
    socket.write(rawProblemResponse(status, detail, randomUUID()));
  socket.destroy(err);
}

function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
  const detail =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the path has an invalid percent-encoding'
      : status === 414
        ? 'a path segment is longer than the server accepts'
        : 'the request cannot be routed';
  const problem = toProblem({ statusCode: status, message: detail, malformed: true }, '', String(request.id));
  problem.instance = undefined;
  void reply
    .status(status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .header('x-request-id', request.id)
    .send(JSON.stringify(problem));
}

function expectationFailed(req: IncomingMessage, res: ServerResponse): void {
  const problem = toProblem(
    { statusCode: 417, message: 'only "Expect: 100-continue" is supported', malformed: true },
    (req.url ?? '').split('?')[0],
    randomUUID(),
  );
  res.writeHead(417, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
    'x-request-id': problem.requestId,
    connection: 'close',
  });
  res.end(JSON.stringify(problem));
}

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
    clientErrorHandler,
    frameworkErrors,
  });
  const fastify = adapter.getInstance<FastifyInstance>();
  fastify.server.on('checkExpectation', expectationFailed);
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
    if (route.startsWith('/health/')) {
      // Probes are logged when their answer changes (failures by the problem filter, with the reason).
      if (reply.statusCode < 400)
        logger.onChange(
          'http',
          `health ${route}`,
          String(reply.statusCode),
          'info',
          `${route} answers ${reply.statusCode}`,
        );
    } else if (http.isEnabled('http')) {
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

  const document = buildOpenApi(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'v1/openapi.json', raw: ['json'] });
  return app;
}
