import { Inject, Injectable } from '@nestjs/common';
import type { Pool, TypeCast } from 'mysql2';
import { DataSource } from 'typeorm';
import { MYSQL_READER } from '@app/database';
import { RecordType, rowsById } from '../record-type';

type MysqlCallbackPool = Pick<Pool, 'query'>;
const docAsBuffer: TypeCast = (field, next) => (field.name === 'doc' ? field.buffer() : next());

/** Tier 2 of every record type: the cold read from the MySQL reader endpoint. */
@Injectable()
export class RecordReader {
  constructor(@Inject(MYSQL_READER) private readonly reader: DataSource) {}

  /** Live documents for ids; deleted and unknown ids are simply absent. */
  async findDocs(type: RecordType, ids: readonly number[]): Promise<Map<number, Buffer>> {
    const { where, params } = rowsById(type);
    const rows = await this.query<{ id: number; doc: Buffer }>(
      `SELECT ${type.idColumn ?? 'id'} AS id, doc FROM ${type.table} WHERE ${where} AND deleted_at IS NULL`,
      [ids, ...params],
    );
    const out = new Map<number, Buffer>();
    for (const r of rows) out.set(Number(r.id), r.doc);
    return out;
  }

  /**
   * The cold-read hot path goes straight to the reader's mysql2 pool (the one TypeORM manages, its public
   * `driver.pool`), with the `doc` column as raw bytes: no QueryRunner per query, and no UTF-8 decode and
   * re-encode of ~1 KB per row on its way to Redis and the response (measured: npm run bench, cold-100).
   */
  query<T>(sql: string, values: unknown[]): Promise<T[]> {
    const pool = (this.reader.driver as unknown as { pool: MysqlCallbackPool }).pool;
    return new Promise((resolve, reject) =>
      pool.query({ sql, values, typeCast: docAsBuffer }, (err, rows) =>
        err ? reject(err) : resolve(rows as T[]),
      ),
    );
  }
}
