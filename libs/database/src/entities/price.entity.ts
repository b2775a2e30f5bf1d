import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A product's price in one market (`de-EUR`: country and currency). Amounts are integers in the currency's
 * minor units, never floats. `doc` is the API object, written once per version.
 */
@Entity({ name: 'prices' })
export class PriceEntity {
  @PrimaryColumn({ name: 'product_id', type: 'bigint', unsigned: true })
  productId!: number;

  @PrimaryColumn({ type: 'varchar', length: 8, collation: 'utf8mb4_bin' })
  market!: string;

  @Column({ type: 'bigint' })
  amount!: number;

  @Column({ name: 'strike_through', type: 'bigint', nullable: true })
  strikeThrough!: number | null;

  @Column({ name: 'valid_from', type: 'datetime', precision: 3, nullable: true })
  validFrom!: Date | null;

  @Column({ name: 'valid_to', type: 'datetime', precision: 3, nullable: true })
  validTo!: Date | null;

  @Column({ type: 'int', unsigned: true })
  version!: number;

  @Column({ type: 'text', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'datetime', precision: 3, nullable: true })
  deletedAt!: Date | null;
}
