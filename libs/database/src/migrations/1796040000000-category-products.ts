import { MigrationInterface, QueryRunner } from 'typeorm';

export class CategoryProducts1796040000000 implements MigrationInterface {
  name = 'CategoryProducts1796040000000';

  async up(q: QueryRunner): Promise<void> {
    // Which products are in which category (the product's categoryIds), written in the product's own
    // transaction. A product leaving a category keeps its row with present = 0 (a tombstone carrying the
    // version that removed it), so whoever replays the outbox or rebuilds a category's Redis set knows what
    // to remove, not only what to add (docs/categories.md). The primary key is the walk's keyset order.
    await q.query(`
      CREATE TABLE category_products (
        category_id BIGINT UNSIGNED NOT NULL,
        product_id BIGINT UNSIGNED NOT NULL,
        present TINYINT UNSIGNED NOT NULL,
        version INT UNSIGNED NOT NULL,
        PRIMARY KEY (category_id, product_id),
        KEY ix_category_products_product (product_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE category_products');
  }
}
