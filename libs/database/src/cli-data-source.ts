import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { createDataSource } from './data-sources';

/**
 * The data source the TypeORM CLI uses: the service's writer (configured the same way; for a local stack,
 * `set -a; . .stack/dev/env.sh; set +a`), read as MariaDB, so the schema diff understands MariaDB's
 * information_schema (it reports a nullable column's default as the string 'NULL').
 * `npm run migration:check` proves the migrations match the entities;
 * `npm run migration:generate -- libs/database/src/migrations/<Name>` writes a new one.
 */
const writer = createDataSource(loadConfig(), 'writer');
export default new DataSource({ ...writer.options, type: 'mariadb' } as typeof writer.options);
