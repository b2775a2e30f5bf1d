import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT } from '@app/redis';

// allow-oom: a lease is a few bytes, and the outbox relay must keep running when Redis is full (that is
// when it has work to do).
const ACQUIRE = `#!lua flags=allow-oom
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type RedisWithLease = Redis & {
  leaseAcquire(key: string, owner: string, ttlMs: number): Promise<number>;
  leaseRelease(key: string, owner: string): Promise<number>;
};

/** Job leases in Redis, so that one node at a time runs a job (app nodes are stateless). */
@Injectable()
export class LeaseRepository {
  private readonly redis: RedisWithLease;

  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    redis.defineCommand('leaseAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('leaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as RedisWithLease;
  }

  /** Takes the lease, or extends it when the owner already holds it. */
  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.leaseAcquire(`lease:${name}`, owner, ttlMs)) === 1;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.redis.leaseRelease(`lease:${name}`, owner);
  }
}
