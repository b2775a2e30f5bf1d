import { Inject, Injectable } from '@nestjs/common';
import type { RowDataPacket } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import {
  MonitorPools,
  MYSQL_MONITOR,
  MYSQL_READER,
  MYSQL_WRITER,
  MysqlServer,
  poolUsage,
  PoolUsage,
} from '@app/database';

/** `SHOW SLAVE STATUS` of one master, i.e. how it replicates from its peer. */
export interface ReplicationState {
  configured: boolean;
  ioRunning: boolean;
  sqlRunning: boolean;
  /** Seconds_Behind_Master; null while the SQL thread does not run. */
  lagSeconds: number | null;
  lastIoError: string;
  lastSqlError: string;
  gtidIoPos: string;
  /** Rpl_semi_sync_master_status: commits on this master wait for the peer (lossless); null if unknown. */
  semiSyncMaster: boolean | null;
}

const QUERY_TIMEOUT_MS = 2_000;

/** Replication state of both masters (monitor account, direct connections) and the app's pool usage. */
@Injectable()
export class MysqlMonitorRepository {
  constructor(
    @Inject(MYSQL_MONITOR) private readonly monitor: MonitorPools,
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
  ) {}

  configured(): MysqlServer[] {
    return (['a', 'b'] as const).filter((s) => this.monitor[s] !== null);
  }

  /** Throws when the server does not answer. */
  async replication(server: MysqlServer): Promise<ReplicationState> {
    const pool = this.monitor[server];
    if (!pool) throw new Error(`mysql ${server} is not configured`);
    const [rows] = await pool.query<RowDataPacket[]>({ sql: 'SHOW SLAVE STATUS', timeout: QUERY_TIMEOUT_MS });
    const [semi] = await pool.query<RowDataPacket[]>({
      sql: "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'",
      timeout: QUERY_TIMEOUT_MS,
    });
    const semiSyncMaster = semi[0] ? semi[0].Value === 'ON' : null;
    const r = rows[0];
    if (!r)
      return {
        configured: false,
        ioRunning: false,
        sqlRunning: false,
        lagSeconds: null,
        lastIoError: '',
        lastSqlError: '',
        gtidIoPos: '',
        semiSyncMaster,
      };
    const lag = r.Seconds_Behind_Master as number | string | null;
    return {
      configured: true,
      ioRunning: r.Slave_IO_Running === 'Yes',
      sqlRunning: r.Slave_SQL_Running === 'Yes',
      lagSeconds: lag === null || lag === undefined ? null : Number(lag),
      lastIoError: String(r.Last_IO_Error ?? ''),
      lastSqlError: String(r.Last_SQL_Error ?? ''),
      gtidIoPos: String(r.Gtid_IO_Pos ?? ''),
      semiSyncMaster,
    };
  }

  pools(): Array<{ pool: 'writer' | 'reader'; usage: PoolUsage }> {
    const out: Array<{ pool: 'writer' | 'reader'; usage: PoolUsage }> = [];
    for (const [pool, ds] of [
      ['writer', this.writer],
      ['reader', this.reader],
    ] as const) {
      const usage = poolUsage(ds);
      if (usage) out.push({ pool, usage });
    }
    return out;
  }
}
