import { Module } from '@nestjs/common';
import { HealthModule } from '@catalog/health/health.module';
import { InvalidationModule } from '@catalog/invalidation/invalidation.module';
import { TieringModule } from '@catalog/tiering/tiering.module';
import { RecordTypeRegistry } from './record-type.registry';
import { OutboxRepository } from './repositories/outbox.repository';
import { RecordReader } from './repositories/record-reader';
import { ScopedRowsRepository } from './repositories/scoped-rows.repository';
import { VersionedWriter } from './repositories/versioned-writer';
import { OutboxRelayService } from './services/outbox-relay.service';
import { RecordWrites } from './services/record-writes.service';
import { TieredReads } from './services/tiered-reads.service';

/**
 * The machinery every record type shares: tiered read, versioned write, after-commit apply, outbox relay.
 * A type module imports it and registers its cache repository with the RecordTypeRegistry.
 */
@Module({
  imports: [HealthModule, InvalidationModule, TieringModule],
  providers: [
    RecordTypeRegistry,
    OutboxRepository,
    RecordReader,
    VersionedWriter,
    ScopedRowsRepository,
    OutboxRelayService,
    RecordWrites,
    TieredReads,
  ],
  exports: [
    RecordTypeRegistry,
    OutboxRepository,
    RecordReader,
    VersionedWriter,
    ScopedRowsRepository,
    RecordWrites,
    TieredReads,
    HealthModule,
  ],
})
export class RecordTypesModule {}
