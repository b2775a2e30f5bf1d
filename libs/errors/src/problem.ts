import { STATUS_CODES } from 'node:http';
import { AppError } from './app-error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Problem types are documented in docs/errors.md; the URI is stable for the life of v1. */
export const PROBLEM_BASE = 'https://catalog.example.com/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** Problem types of framework-level 4xx (router, body parser, limits); they describe the request, so safe to show. */
const TYPE_BY_STATUS: Record<number, string> = {
  400: 'malformed-request',
  404: 'not-found',
  405: 'method-not-allowed',
  408: 'request-timeout',
  413: 'payload-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  417: 'expectation-failed',
  431: 'headers-too-large',
};

interface ErrorLike {
  statusCode?: unknown;
  status?: unknown;
  message?: unknown;
  /** A 400 about the HTTP message itself (request line, escapes, framing), not about its content. */
  malformed?: unknown;
}

/** Maps anything thrown to a problem; unknown errors become an opaque 500. */
export function toProblem(error: unknown, instance: string, requestId: string): Problem {
  const base = { instance, requestId };
  if (error instanceof AppError) {
    return {
      type: PROBLEM_BASE + error.type,
      title: error.title,
      status: error.status,
      detail: error.status >= 500 ? 'The service could not complete the request.' : error.message,
      ...error.extensions,
      ...base,
    };
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const status = Number(e.statusCode ?? e.status);
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    return {
      type:
        PROBLEM_BASE +
        (status === 400 && !e.malformed ? 'validation' : (TYPE_BY_STATUS[status] ?? 'validation')),
      title: STATUS_CODES[status] ?? 'Client error',
      status,
      detail: typeof e.message === 'string' ? e.message : (STATUS_CODES[status] ?? ''),
      ...base,
    };
  }
  return {
    type: PROBLEM_BASE + 'internal',
    title: 'Internal server error',
    status: 500,
    detail: 'The service could not complete the request.',
    ...base,
  };
}

/**
 * A whole HTTP/1.1 response, for errors found before there is a request to answer (Node's parser: a broken
 * request line or header, bad chunking, headers over the limit, a timeout). The connection is closed after.
 */
export function rawProblemResponse(status: number, detail: string, requestId: string): string {
  const problem: Problem = {
    ...toProblem({ statusCode: status, message: detail, malformed: true }, '', requestId),
  };
  delete problem.instance;
  const body = JSON.stringify(problem);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Cache-Control: no-store\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`
  );
}
