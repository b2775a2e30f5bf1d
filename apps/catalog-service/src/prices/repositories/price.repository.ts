import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RecordType } from '@catalog/record-types/record-type';
import { VersionedWriter, WriteResult } from '@catalog/record-types/repositories/versioned-writer';
import { priceRecordType } from '../price.record-type';

export interface PriceRow {
  amount: number;
  strikeThrough: number | null;
  validFrom: Date | null;
  validTo: Date | null;
  doc: string;
}

/** Builds the stored row once the new version is known (the document embeds its version). */
export type PriceRowBuilder = (version: number, now: Date) => PriceRow;

/** Prices in MySQL: every write of a market's prices is one versioned transaction (VersionedWriter). */
@Injectable()
export class PriceRepository {
  private readonly types = new Map<string, RecordType>();

  constructor(private readonly versioned: VersionedWriter) {}

  typeOf(market: string): RecordType {
    let type = this.types.get(market);
    if (!type) this.types.set(market, (type = priceRecordType(market)));
    return type;
  }

  /** All-or-nothing for the given prices of one market; the caller validated them and removed duplicates. */
  upsertMany(
    market: string,
    items: ReadonlyArray<{ id: number; build: PriceRowBuilder }>,
  ): Promise<WriteResult[]> {
    const type = this.typeOf(market);
    return this.versioned.write(type, async (em) => {
      const locked = new Map(
        (
          await this.versioned.lock(
            em,
            type,
            items.map((i) => i.id),
          )
        ).map((r) => [Number(r.id), r]),
      );
      const now = new Date();
      const planned = items.map(({ id, build }) => {
        const cur = locked.get(id);
        const version = (cur?.version ?? 0) + 1;
        return {
          id,
          version,
          row: build(version, now),
          isNew: cur === undefined,
          created: !cur || cur.deleted_at !== null,
        };
      });
      await this.insertRows(em, market, planned, now);
      await this.versioned.insertOutbox(em, type, planned);
      return planned.map((p) => ({ id: p.id, version: p.version, doc: p.row.doc, created: p.created }));
    });
  }

  /** Locked rows are replaced; absent ones get a plain INSERT (two creates of one price cannot both win). */
  private async insertRows(
    em: EntityManager,
    market: string,
    rows: ReadonlyArray<{ id: number; version: number; row: PriceRow; isNew: boolean }>,
    now: Date,
  ): Promise<void> {
    const values = (isNew: boolean) =>
      rows
        .filter((r) => r.isNew === isNew)
        .map((r) => [
          r.id,
          market,
          r.row.amount,
          r.row.strikeThrough,
          r.row.validFrom,
          r.row.validTo,
          r.version,
          r.row.doc,
          now,
          now,
          null,
        ]);
    const insert = `INSERT INTO prices (product_id, market, amount, strike_through, valid_from, valid_to, version,
      doc, created_at, updated_at, deleted_at) VALUES ?`;
    const created = values(true);
    const replaced = values(false);
    if (created.length) await em.query(insert, [created]);
    if (replaced.length)
      await em.query(
        `${insert} ON DUPLICATE KEY UPDATE amount = VALUES(amount), strike_through = VALUES(strike_through),
           valid_from = VALUES(valid_from), valid_to = VALUES(valid_to), version = VALUES(version),
           doc = VALUES(doc), updated_at = VALUES(updated_at), deleted_at = NULL`,
        [replaced],
      );
  }
}
