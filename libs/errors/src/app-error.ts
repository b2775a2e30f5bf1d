/**
 * Errors know their HTTP status, their problem type and how loudly to log them (4xx quietly, 5xx with a stack).
 * `detail` is shown to clients for 4xx only; a 5xx body never carries the internal message.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  abstract readonly title: string;
  readonly extensions: Record<string, unknown>;

  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.extensions = extensions;
  }

  get logLevel(): 'info' | 'error' {
    return this.status >= 500 ? 'error' : 'info';
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
  readonly type = 'validation';
  readonly title = 'Invalid request';
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly type = 'unauthorized';
  readonly title = 'Missing or invalid credentials';
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly type = 'forbidden';
  readonly title = 'The credentials do not allow this operation';
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly type = 'not-found';
  readonly title = 'Not found';
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly type = 'conflict';
  readonly title = 'Conflict with the stored state';
}

export class PreconditionFailedError extends AppError {
  readonly status = 412;
  readonly type = 'precondition-failed';
  readonly title = 'Precondition failed';
}

/** Temporary: the answer carries `Retry-After` (seconds), and a client may try again after it. */
export class ServiceUnavailableError extends AppError {
  readonly status = 503;
  readonly type = 'unavailable';
  readonly title = 'Service unavailable';

  constructor(
    detail: string,
    extensions: Record<string, unknown> = {},
    readonly retryAfterSeconds = 2,
  ) {
    super(detail, extensions);
  }
}
