import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from '@app/logger';
import { AppError, ServiceUnavailableError } from './app-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

/** The one place where errors become problem+json (RFC 9457). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(this.logger, exception, request, reply);
  }
}

export function sendProblem(
  logger: AppLogger,
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const error = exception instanceof HttpException ? fromHttpException(exception) : exception;
  const problem = toProblem(error, request.url.split('?')[0], String(request.id));
  const log = logger.channel('http');
  if (problem.status >= 500) {
    const err = exception instanceof Error ? exception : new Error(String(exception));
    log.error(`${request.method} ${request.url} failed: ${err.message}`, {
      status: problem.status,
      stack: err.stack,
    });
  } else {
    log.info(`${request.method} ${request.url} rejected: ${problem.detail}`, {
      status: problem.status,
      type: problem.type,
    });
  }
  // A handler may have chosen caching for its error (a short-lived 404); everything else is not stored.
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  // Every 503 tells the client when to try again (RFC 9110 Retry-After, in seconds).
  if (problem.status === 503 && !reply.hasHeader('retry-after')) {
    const after = error instanceof ServiceUnavailableError ? error.retryAfterSeconds : 2;
    void reply.header('retry-after', String(after));
  }
  void reply
    .status(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(problem)));
}

/** Nest's own exceptions (route not found, etc.) keep their status and become problems too. */
function fromHttpException(e: HttpException): unknown {
  const status = e.getStatus();
  if (status >= 500) return e;
  return { statusCode: status, message: e.message };
}

export { AppError };
