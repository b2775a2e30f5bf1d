import { MigrationInterface, QueryRunner } from 'typeorm';

export class ProductsAndOutbox1732300000000 implements MigrationInterface {
  name = 'ProductsAndOutbox1732300000000';

  async up(q: QueryRunner): Promise<void> {
    // `doc` is the API's JSON byte for byte, so reads never re-serialise. A delete keeps the row as a
    // tombstone (doc and sku cleared) so versions stay monotonic per id across delete and re-create.
    await q.query(`
      CREATE TABLE products (
        id BIGINT UNSIGNED NOT NULL,
        sku VARCHAR(64) NULL,
        status VARCHAR(16) NOT NULL,
        version INT UNSIGNED NOT NULL,
        doc MEDIUMTEXT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        deleted_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_products_sku (sku),
        KEY ix_products_updated_at (updated_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    // Written in the same transaction as the product; whoever applies it to Redis deletes it.
    await q.query(`
      CREATE TABLE outbox (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        record_type VARCHAR(16) NOT NULL,
        record_id BIGINT UNSIGNED NOT NULL,
        version INT UNSIGNED NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY ix_outbox_created_at (created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE products');
  }
}
