import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { VersionedRow } from './versioned-row';

/**
 * `doc` is the API's JSON byte for byte, so reads never re-serialise. A delete keeps the row as a tombstone
 * (doc and sku cleared) so versions stay monotonic per id across delete and re-create.
 */
@Entity({ name: 'products' })
@Index('uq_products_sku', ['sku'], { unique: true })
@Index('ix_products_updated_at', ['updatedAt'])
export class ProductEntity extends VersionedRow {
  @PrimaryColumn({ type: 'bigint', unsigned: true })
  id!: number;

  @Column({ type: 'varchar', length: 64, nullable: true, collation: 'utf8mb4_bin' })
  sku!: string | null;

  @Column({ type: 'varchar', length: 16, collation: 'utf8mb4_bin' })
  status!: string;

  @Column({ type: 'mediumtext', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;
}
