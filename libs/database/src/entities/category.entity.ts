import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The category tree as records (docs/categories.md): `doc` is the API object, `path` the ids from the root
 * down (`/1/3/12/`), so a move finds its subtree with one prefix range. Deletes keep a tombstone row.
 */
@Entity({ name: 'categories' })
@Index('ix_categories_parent', ['parentId', 'position'])
@Index('ix_categories_path', ['path'])
export class CategoryEntity {
  @PrimaryColumn({ type: 'bigint', unsigned: true })
  id!: number;

  @Column({ name: 'parent_id', type: 'bigint', unsigned: true, nullable: true })
  parentId!: number | null;

  @Column({ type: 'int', unsigned: true })
  position!: number;

  @Column({ type: 'varchar', length: 255, collation: 'utf8mb4_bin' })
  path!: string;

  @Column({ type: 'int', unsigned: true })
  version!: number;

  @Column({ type: 'mediumtext', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'datetime', precision: 3, nullable: true })
  deletedAt!: Date | null;
}
