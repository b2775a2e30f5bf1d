import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Written in the same transaction as the record it names (any record type); whoever applies it to Redis
 * deletes it (the outbox relay).
 */
@Entity({ name: 'outbox' })
@Index('ix_outbox_created_at', ['createdAt'])
export class OutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id!: number;

  @Column({ name: 'record_type', type: 'varchar', length: 16 })
  recordType!: string;

  @Column({ name: 'record_id', type: 'bigint', unsigned: true })
  recordId!: number;

  @Column({ type: 'int', unsigned: true })
  version!: number;

  @Column({
    name: 'created_at',
    type: 'datetime',
    precision: 3,
    default: () => 'CURRENT_TIMESTAMP(3)',
  })
  createdAt!: Date;
}
