import { describe, it } from 'node:test';
import { expect } from 'expect';
import { redisErrorKind } from './redis-errors';

describe(redisErrorKind.name, () => {
  it('recognises the OOM refusal of a write', () => {
    const e = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    expect(redisErrorKind(e)).toBe('oom');
  });

  it('tells timeouts and lost connections apart from other errors', () => {
    expect(redisErrorKind(new Error('Command timed out'))).toBe('timeout');
    expect(redisErrorKind(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe('connection');
    expect(redisErrorKind(new Error('Connection is closed.'))).toBe('connection');
    expect(redisErrorKind(new Error('WRONGTYPE Operation against a key'))).toBe('other');
  });
});
