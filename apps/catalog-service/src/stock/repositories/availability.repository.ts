import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { REDIS_STOCK } from '@app/redis';
import type { DerivedKeys } from '@catalog/record-types/repositories/record-cache.repository';
import { availabilityKeyPrefix, stockRecordType } from '../stock.record-type';

/**
 * derive(ids, full, at): each id's availability key in each market of ARGV[at + 3 ..] (market, key prefix,
 * k, then k warehouse names and level key prefixes), from the levels Redis holds now. Every level known:
 * `<warehouse>:<version>;...{"market":..,"availability":..,"quantity":..}` (the versions of the levels
 * that exist, for ETags, then the answer's bytes), or `!0` when none exists; a level Redis does not know
 * (expired, evicted, never read): no key, the next read derives it. Mode oom (full false) only deletes.
 */
const DERIVE = `
local function derive(ids, full, at)
  local low = tonumber(ARGV[at])
  local ttl = ARGV[at + 1]
  local negativeTtl = ARGV[at + 2]
  local g = at + 3
  while g <= #ARGV do
    local market, prefix, k = ARGV[g], ARGV[g + 1], tonumber(ARGV[g + 2])
    for _, id in ipairs(ids) do
      local versions, quantity, known, any = '', 0, full, false
      for j = 1, k do
        if not known then break end
        local level = redis.call('GET', ARGV[g + 2 + 2 * j] .. id)
        if not level then
          known = false
        elseif string.byte(level, 1) ~= 33 then
          local head = string.sub(level, 1, 160)
          any = true
          versions = versions .. ARGV[g + 1 + 2 * j] .. ':' .. string.match(head, '"version":(%d+)') .. ';'
          quantity = quantity + tonumber(string.match(head, '"quantity":(%d+)'))
        end
      end
      local key = prefix .. id
      if not known then
        redis.call('DEL', key)
      elseif not any then
        redis.call('SET', key, '!0', 'EX', negativeTtl)
      else
        local a = 'in_stock'
        if quantity == 0 then a = 'out_of_stock' elseif quantity <= low then a = 'low' end
        redis.call('SET', key, versions .. '{"market":"' .. market .. '","availability":"' .. a ..
          '","quantity":' .. string.format('%d', quantity) .. '}', 'EX', ttl)
      end
    end
    g = g + 3 + 2 * k
  end
end
`;

/**
 * The read's derive: ARGV n, n ids, then derive's arguments. Like a backfill it is a cache of what Redis
 * holds (neither AOF nor replica: after a failover the next read derives again).
 */
const DERIVE_ON_READ = `${DERIVE}
redis.set_repl(redis.REPL_NONE)
local n = tonumber(ARGV[1])
local ids = {}
for i = 1, n do ids[i] = ARGV[1 + i] end
derive(ids, true, n + 2)
return n
`;

type RedisWithDerive = Redis & { deriveAvailability(numKeys: number, ...args: unknown[]): Promise<number> };

/**
 * Availability per (product, market) as one key, so a read of a market's availability is one key per id
 * instead of one per warehouse. Written by the levels' apply script, in the same script and under the same
 * version guard as the level (StockCaches), and derived again by a read that found no key.
 */
@Injectable()
export class AvailabilityRepository {
  private readonly markets: ReadonlyMap<string, string[]>;
  private readonly redis: RedisWithDerive;

  constructor(
    @Inject(REDIS_STOCK) redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.markets = marketsOf(config);
    redis.defineCommand('deriveAvailability', { lua: DERIVE_ON_READ });
    this.redis = redis as RedisWithDerive;
  }

  /** What a warehouse's apply script derives: the availability in every market that warehouse stocks. */
  derivedFor(warehouse: string): DerivedKeys {
    const markets = [...this.markets].filter(([, ws]) => ws.includes(warehouse)).map(([m]) => m);
    return { name: 'Availability', lua: DERIVE, args: this.args(markets) };
  }

  keyPrefix(market: string): string {
    return availabilityKeyPrefix(market, this.markets.get(market) ?? [], this.config.STOCK_LOW_THRESHOLD);
  }

  async derive(ids: readonly number[], market: string): Promise<void> {
    await this.redis.deriveAvailability(0, ids.length, ...ids, ...this.args([market]));
  }

  private args(markets: readonly string[]): Array<string | number> {
    const c = this.config;
    const out: Array<string | number> = [c.STOCK_LOW_THRESHOLD, c.CACHE_TTL_SECONDS, c.NEGATIVE_TTL_SECONDS];
    for (const market of markets) {
      const warehouses = this.markets.get(market) ?? [];
      out.push(market, this.keyPrefix(market), warehouses.length);
      for (const w of warehouses) out.push(w, stockRecordType(w).keyPrefix);
    }
    return out;
  }
}
