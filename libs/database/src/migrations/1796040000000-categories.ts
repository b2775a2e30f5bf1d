import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `categories`: the tree as records (`doc` the API object, `path` the ids from the root down, `/1/3/12/`, so
 * a move finds its subtree with one prefix range; deletes keep a tombstone row).
 * `category_products`: which products are in which category, written in the product's own transaction; a
 * product leaving a category keeps its row with present = 0 and the version that removed it, so a replay
 * or a rebuild knows what to remove. Its primary key is the walk's keyset order (docs/categories.md).
 */
const TABLES: ReadonlyArray<[name: string, definition: string]> = [
  [
    'categories',
    `id BIGINT UNSIGNED NOT NULL, parent_id BIGINT UNSIGNED NULL, position INT UNSIGNED NOT NULL,
     path VARCHAR(255) NOT NULL, version INT UNSIGNED NOT NULL, doc MEDIUMTEXT NULL,
     created_at DATETIME(3) NOT NULL, updated_at DATETIME(3) NOT NULL, deleted_at DATETIME(3) NULL,
     PRIMARY KEY (id), KEY ix_categories_parent (parent_id, position), KEY ix_categories_path (path)`,
  ],
  [
    'category_products',
    `category_id BIGINT UNSIGNED NOT NULL, product_id BIGINT UNSIGNED NOT NULL,
     present TINYINT UNSIGNED NOT NULL, version INT UNSIGNED NOT NULL,
     PRIMARY KEY (category_id, product_id), KEY ix_category_products_product (product_id)`,
  ],
];

export class Categories1796040000000 implements MigrationInterface {
  name = 'Categories1796040000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, definition] of TABLES)
      await q.query(
        `CREATE TABLE ${table} (${definition}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table] of [...TABLES].reverse()) await q.query(`DROP TABLE ${table}`);
  }
}
