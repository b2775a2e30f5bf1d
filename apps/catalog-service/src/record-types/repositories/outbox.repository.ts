import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MYSQL_WRITER } from '@app/database';

export interface OutboxEntry {
  id: number;
  recordType: string;
  recordId: number;
  version: number;
}

/** Outbox rows are written by VersionedWriter inside each write's transaction; the relay drains them. */
@Injectable()
export class OutboxRepository {
  constructor(@Inject(MYSQL_WRITER) private readonly writer: DataSource) {}

  async pending(olderThanMs: number, limit: number): Promise<OutboxEntry[]> {
    const rows: Array<{ id: number; record_type: string; record_id: number; version: number }> =
      await this.writer.query(
        `SELECT id, record_type, record_id, version FROM outbox
       WHERE created_at <= NOW(3) - INTERVAL ? MICROSECOND
       ORDER BY id LIMIT ?`,
        [olderThanMs * 1000, limit],
      );
    return rows.map((r) => ({
      id: Number(r.id),
      recordType: r.record_type,
      recordId: Number(r.record_id),
      version: r.version,
    }));
  }

  async remove(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.writer.query('DELETE FROM outbox WHERE id IN (?)', [ids]);
  }

  /** Backlog size and the age of its oldest row, for metrics and the status command. */
  async backlog(): Promise<{ rows: number; oldestAgeSeconds: number }> {
    const [r]: Array<{ n: number; oldest: number | null }> = await this.writer.query(
      `SELECT COUNT(*) AS n, TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(3)) / 1e6 AS oldest
       FROM (SELECT created_at FROM outbox ORDER BY id LIMIT 100000) recent`,
    );
    return { rows: Number(r?.n ?? 0), oldestAgeSeconds: Number(r?.oldest ?? 0) };
  }
}
