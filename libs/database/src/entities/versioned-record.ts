import { Column, PrimaryColumn } from 'typeorm';
import { VersionedRow } from './versioned-row';

/**
 * A record type kept as one document per id (products, categories): the id and the stored document (the
 * API's JSON byte for byte; null once deleted) on top of the version and times every table has. Types keyed
 * otherwise (prices per market, stock per warehouse) extend VersionedRow directly.
 */
export abstract class VersionedRecord extends VersionedRow {
  @PrimaryColumn({ type: 'bigint', unsigned: true })
  id!: number;

  @Column({ type: 'mediumtext', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;
}
