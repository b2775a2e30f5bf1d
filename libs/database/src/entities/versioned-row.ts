import { Column } from 'typeorm';

/**
 * The columns every record type's table has: the version the write path bumps, and the times. A delete
 * keeps the row as a tombstone (deleted_at set), so versions stay monotonic per id.
 */
export abstract class VersionedRow {
  @Column({ type: 'int', unsigned: true })
  version!: number;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'datetime', precision: 3, nullable: true })
  deletedAt!: Date | null;
}
