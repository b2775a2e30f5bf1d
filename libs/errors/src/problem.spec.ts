import { describe, it } from 'node:test';
import { expect } from 'expect';
import { NotFoundError, ServiceUnavailableError, ValidationError } from './app-error';
import { toProblem } from './problem';

describe(toProblem.name, () => {
  it('shows the detail and extensions of a 4xx', () => {
    const p = toProblem(
      new ValidationError('ids must be integers', { invalid: ['x'] }),
      '/v1/products',
      'req-1',
    );
    expect(p).toEqual({
      type: 'https://catalog.example.com/problems/validation',
      title: 'Invalid request',
      status: 400,
      detail: 'ids must be integers',
      invalid: ['x'],
      instance: '/v1/products',
      requestId: 'req-1',
    });
  });

  it('never carries the internal message of an unexpected error', () => {
    const p = toProblem(
      new Error('ER_ACCESS_DENIED for user catalog at 10.0.0.3'),
      '/v1/products/1',
      'req-2',
    );
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toMatch(/ER_ACCESS|10\.0\.0\.3/);
  });

  it('hides the detail of an AppError that is a 5xx', () => {
    const p = toProblem(new ServiceUnavailableError('redis at 10.0.0.5 refused'), '/health/ready', 'r');
    expect(p.status).toBe(503);
    expect(p.detail).not.toMatch(/10\.0\.0\.5/);
  });

  it('maps framework 4xx by status (body limit, media type)', () => {
    expect(toProblem({ statusCode: 413, message: 'too large' }, '/', 'r')).toMatchObject({
      status: 413,
      type: expect.stringMatching(/payload-too-large$/),
    });
    expect(toProblem({ statusCode: 415, message: 'nope' }, '/', 'r')).toMatchObject({
      status: 415,
      type: expect.stringMatching(/unsupported-media-type$/),
    });
    expect(toProblem(new NotFoundError('product 1 does not exist'), '/', 'r').status).toBe(404);
  });
});
