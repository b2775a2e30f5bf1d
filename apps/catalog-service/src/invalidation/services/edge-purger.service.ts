import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { EdgeCacheRepository } from '../repositories/edge-cache.repository';
import { InvalidationStreams } from '../repositories/invalidation-streams.repository';
import { PurgerState, StreamPurger } from './stream-purger';

export type { PurgerState } from './stream-purger';
export { compareStreamIds } from './stream-purger';

const ORDER: PurgerState[] = ['disabled', 'ok', 'lagging', 'catching-up', 'locating'];

/**
 * This node's edge purging: each record type's write script publishes to the invalidation stream of the
 * Redis it applies to, so every distinct Redis (products; prices and stock) has a stream and this node
 * follows each with a StreamPurger into its Varnish. Readiness needs all of them caught up.
 */
@Injectable()
export class EdgePurgerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly purgers = new Map<object, StreamPurger>();

  constructor(
    private readonly streams: InvalidationStreams,
    edge: EdgeCacheRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    metrics: Metrics,
    logger: AppLogger,
  ) {
    for (const { name, connection, stream } of streams.all)
      this.purgers.set(connection, new StreamPurger(stream, edge, config, metrics, logger, name));
  }

  get enabled(): boolean {
    return [...this.purgers.values()][0].enabled;
  }

  onApplicationBootstrap(): void {
    for (const p of this.purgers.values()) p.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.purgers.values()].map((p) => p.stop()));
    for (const { stream } of this.streams.all) stream.close();
  }

  /** The furthest-behind stream's state. */
  state(): PurgerState {
    return [...this.purgers.values()]
      .map((p) => p.state())
      .reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'disabled');
  }

  ready(): boolean {
    return [...this.purgers.values()].every((p) => p.ready());
  }

  lagMs(): number {
    return Math.max(...[...this.purgers.values()].map((p) => p.lagMs()));
  }

  /** True once this node has purged entry `id` of the stream on `connection` (the product one by default). */
  waitFor(id: string, timeoutMs: number, connection?: object): Promise<boolean> {
    const purger = (connection && this.purgers.get(connection)) ?? [...this.purgers.values()][0];
    return purger.waitFor(id, timeoutMs);
  }
}
