import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';

/** One connection per record type, so a type can move to its own Redis by configuration alone. */
export const REDIS_PRODUCT = Symbol('REDIS_PRODUCT');

export function createRedis(url: string, name: string, logger: AppLogger, commandTimeout: number): Redis {
  const log = logger.channel('redis');
  const client = new Redis(url, {
    connectionName: `catalog:${name}`,
    commandTimeout,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  client.on('error', (err: Error) => log.warn(`redis ${name}: ${err.message}`, { url: redactUrl(url) }));
  client.on('ready', () => log.info(`redis ${name} ready`, { url: redactUrl(url) }));
  return client;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

@Injectable()
export class RedisHealth implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_PRODUCT) private readonly product: Redis,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'redis') {
    const indicator = this.health.check(key);
    try {
      await this.product.ping();
      return indicator.up();
    } catch (e) {
      return indicator.down({ message: e instanceof Error ? e.message : 'unreachable' });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.product.quit().catch(() => this.product.disconnect());
  }
}

@Global()
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: REDIS_PRODUCT,
      inject: [APP_CONFIG, AppLogger],
      useFactory: (config: AppConfig, logger: AppLogger) =>
        createRedis(config.REDIS_PRODUCT_URL, 'product', logger, config.REDIS_COMMAND_TIMEOUT_MS),
    },
    RedisHealth,
  ],
  exports: [REDIS_PRODUCT, RedisHealth],
})
export class RedisModule {}
