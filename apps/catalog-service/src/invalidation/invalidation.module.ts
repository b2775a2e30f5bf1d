import { Module } from '@nestjs/common';
import { EdgeCacheRepository } from './repositories/edge-cache.repository';
import { InvalidationStreams } from './repositories/invalidation-streams.repository';
import { EdgePurgerService } from './services/edge-purger.service';

/**
 * Edge invalidation: the stream every write publishes to (INVALIDATION_STREAM, written by the record types'
 * apply script), this node's purger that follows it into its Varnish, and its state for readiness.
 */
@Module({
  providers: [EdgePurgerService, EdgeCacheRepository, InvalidationStreams],
  exports: [EdgePurgerService],
})
export class InvalidationModule {}
