import { Column, Entity, Index } from 'typeorm';
import { VersionedRecord } from './versioned-record';

/**
 * The category tree as records (docs/categories.md): `doc` is the API object, `path` the ids from the root
 * down (`/1/3/12/`), so a move finds its subtree with one prefix range. Deletes keep a tombstone row.
 */
@Entity({ name: 'categories' })
@Index('ix_categories_parent', ['parentId', 'position'])
@Index('ix_categories_path', ['path'])
export class CategoryEntity extends VersionedRecord {
  @Column({ name: 'parent_id', type: 'bigint', unsigned: true, nullable: true })
  parentId!: number | null;

  @Column({ type: 'int', unsigned: true })
  position!: number;

  @Column({ type: 'varchar', length: 255, collation: 'utf8mb4_bin' })
  path!: string;
}
