import { Module } from '@nestjs/common';
import { LeaseRepository } from './repositories/lease.repository';
import { RedisMonitorRepository } from './repositories/redis-monitor.repository';
import { TieringRepository } from './repositories/tiering.repository';
import { TieringService } from './services/tiering.service';

/** Keeps Redis' persistent set inside its memory budget (idlest keys become volatile); the job leases. */
@Module({
  providers: [TieringService, TieringRepository, RedisMonitorRepository, LeaseRepository],
  exports: [TieringService, TieringRepository, RedisMonitorRepository, LeaseRepository],
})
export class TieringModule {}
