import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `doc` is the API's JSON byte for byte, so reads never re-serialise. A delete keeps the row as a tombstone
 * (doc and sku cleared) so versions stay monotonic per id across delete and re-create.
 */
@Entity({ name: 'products' })
@Index('uq_products_sku', ['sku'], { unique: true })
@Index('ix_products_updated_at', ['updatedAt'])
export class ProductEntity {
  @PrimaryColumn({ type: 'bigint', unsigned: true })
  id!: number;

  @Column({ type: 'varchar', length: 64, nullable: true, collation: 'utf8mb4_bin' })
  sku!: string | null;

  @Column({ type: 'varchar', length: 16, collation: 'utf8mb4_bin' })
  status!: string;

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
