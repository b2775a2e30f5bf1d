import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { InvalidationModule } from '@catalog/invalidation/invalidation.module';
import { HealthController } from './controllers/health.controller';
import { LifecycleService } from './services/lifecycle.service';
import { ReadinessService } from './services/readiness.service';
import { StoreBreakers } from './services/store-breaker';

/** Liveness and readiness, the drain flag, and the store breakers every read goes through. */
@Module({
  imports: [TerminusModule, InvalidationModule],
  controllers: [HealthController],
  providers: [LifecycleService, ReadinessService, StoreBreakers],
  exports: [LifecycleService, StoreBreakers],
})
export class HealthModule {}
