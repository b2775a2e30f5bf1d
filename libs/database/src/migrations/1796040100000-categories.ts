import { MigrationInterface, QueryRunner } from 'typeorm';

export class Categories1796040100000 implements MigrationInterface {
  name = 'Categories1796040100000';

  async up(q: QueryRunner): Promise<void> {
    // The category tree as records: `doc` is the API object (localized name and slug included), `path` the
    // ids from the root down (`/1/3/12/`), so a move finds its subtree with one prefix range. A delete
    // keeps a tombstone row, like products, so versions never go backwards.
    await q.query(`
      CREATE TABLE categories (
        id BIGINT UNSIGNED NOT NULL,
        parent_id BIGINT UNSIGNED NULL,
        position INT UNSIGNED NOT NULL,
        path VARCHAR(255) NOT NULL,
        version INT UNSIGNED NOT NULL,
        doc MEDIUMTEXT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        deleted_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_categories_parent (parent_id, position),
        KEY ix_categories_path (path)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE categories');
  }
}
