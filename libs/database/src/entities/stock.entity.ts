import { Column, Entity, PrimaryColumn } from 'typeorm';
import { VersionedRow } from './versioned-row';

/** A product's stock level in one warehouse; `doc` is the stored record the composed read uses. */
@Entity({ name: 'stock' })
export class StockEntity extends VersionedRow {
  @PrimaryColumn({ name: 'product_id', type: 'bigint', unsigned: true })
  productId!: number;

  @PrimaryColumn({ type: 'varchar', length: 32, collation: 'utf8mb4_bin' })
  warehouse!: string;

  @Column({ type: 'int', unsigned: true })
  quantity!: number;

  @Column({ type: 'text', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;
}
