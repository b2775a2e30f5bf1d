import { Column, PrimaryColumn } from 'typeorm';

/**
 * The columns every record type's table has and the shared machinery relies on (record-types/): the id,
 * the version every write bumps, the stored document (the API's JSON byte for byte; null once deleted) and
 * the tombstone's `deleted_at`. A type's entity extends it with its own columns.
 */
export abstract class VersionedRecord {
  @PrimaryColumn({ type: 'bigint', unsigned: true })
  id!: number;

  @Column({ type: 'int', unsigned: true })
  version!: number;

  @Column({ type: 'mediumtext', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'datetime', precision: 3, nullable: true })
  deletedAt!: Date | null;
}
