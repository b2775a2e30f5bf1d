import { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import { ENTITIES } from './entities';
import { ProductsAndOutbox1732300000000 } from './migrations/1732300000000-products-and-outbox';
import { Categories1796040000000 } from './migrations/1796040000000-categories';
import { PricesAndStock1796068982636 } from './migrations/1796068982636-prices-and-stock';

export const MIGRATIONS = [
  ProductsAndOutbox1732300000000,
  Categories1796040000000,
  PricesAndStock1796068982636,
];

export type MysqlRole = 'writer' | 'reader';

/** Writer and reader go through the DB HAProxy: writer = master A (B as backup), reader = both. */
export function createDataSource(config: AppConfig, role: MysqlRole): DataSource {
  return new DataSource({
    type: 'mysql',
    host: role === 'writer' ? config.MYSQL_WRITER_HOST : config.MYSQL_READER_HOST,
    port: role === 'writer' ? config.MYSQL_WRITER_PORT : config.MYSQL_READER_PORT,
    username: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.MYSQL_DATABASE,
    charset: 'utf8mb4',
    timezone: 'Z',
    synchronize: false,
    migrationsRun: false,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    logging: false,
    poolSize: config.MYSQL_POOL_SIZE,
    extra: { connectTimeout: 5_000, enableKeepAlive: true, supportBigNumbers: true, bigNumberStrings: false },
  });
}
