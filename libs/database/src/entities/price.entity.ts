import { Column, Entity, PrimaryColumn } from 'typeorm';
import { VersionedRow } from './versioned-row';

/**
 * A product's price in one market (`de-EUR`: country and currency). Amounts are integers in the currency's
 * minor units, never floats. `doc` is the API object, written once per version.
 */
@Entity({ name: 'prices' })
export class PriceEntity extends VersionedRow {
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

  @Column({ type: 'text', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;
}
