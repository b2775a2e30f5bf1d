import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RecordReader } from '@catalog/record-types/repositories/record-reader';
import {
  Expect,
  NotStored,
  VersionedWriter,
  VersionMismatch,
  WriteResult,
} from '@catalog/record-types/repositories/versioned-writer';
import { CATEGORY } from '../category.record-type';
import { CategoryInputDto, MAX_DEPTH, serializeCategory } from '../dtos/category.dto';

/** Why a tree write was refused; the service answers 409 with the message. */
export class TreeConflict extends Error {}

interface TreeRow {
  id: number;
  version: number;
  path: string;
  doc: string | null;
  deleted_at: Date | null;
}

/** `/1/3/12/`: ids from the root down, so a subtree is every path starting with its own. */
const pathIds = (path: string) => path.split('/').filter(Boolean).map(Number);
const pathOf = (ids: readonly number[]) => `/${ids.join('/')}/`;

/**
 * The category tree in MySQL. A write locks the category, its parent (which must exist) and, when the
 * category moves, its whole subtree, and rewrites the path of every category it moved: each one gets a new
 * version and an outbox row in the same transaction, so Redis and the edge follow like any other write.
 */
@Injectable()
export class CategoryRepository {
  constructor(
    private readonly versioned: VersionedWriter,
    private readonly reader: RecordReader,
  ) {}

  findDocs(ids: readonly number[]): Promise<Map<number, Buffer>> {
    return this.reader.findDocs(CATEGORY, ids);
  }

  async upsert(id: number, expect: Expect, input: CategoryInputDto): Promise<WriteResult[]> {
    return this.versioned.write(CATEGORY, async (em) => {
      const [cur] = await this.lockTree(em, 'id = ?', [id]);
      const exists = cur !== undefined && cur.deleted_at === null;
      if (expect !== undefined && (!exists || (expect !== 'exists' && cur.version !== expect))) {
        throw new VersionMismatch(exists ? cur.version : null);
      }
      const path = [...(await this.parentPath(em, id, input.parentId ?? null)), id];
      const now = new Date();
      const version = (cur?.version ?? 0) + 1;
      const doc = serializeCategory(id, version, now, path, input);
      const values = [id, input.parentId ?? null, input.position ?? 0, pathOf(path), version, doc, now, now];
      const insert = `INSERT INTO categories (id, parent_id, position, path, version, doc, created_at,
        updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`;
      // Absent rows get a plain INSERT: of two concurrent creates of one id, the second hits the key and
      // is retried (VersionedWriter), then sees the row.
      await em.query(
        cur === undefined
          ? insert
          : `${insert} ON DUPLICATE KEY UPDATE parent_id = VALUES(parent_id), position = VALUES(position),
             path = VALUES(path), version = VALUES(version), doc = VALUES(doc),
             updated_at = VALUES(updated_at), deleted_at = NULL`,
        values,
      );
      const moved = exists && cur.path !== pathOf(path) ? await this.movePaths(em, cur.path, path, now) : [];
      const written = [{ id, version, doc, created: !exists }, ...moved];
      await this.versioned.insertOutbox(em, CATEGORY, written);
      return written;
    });
  }

  /** Deletes keep a tombstone row; a category with live children cannot go (move or delete them first). */
  async softDelete(id: number, expect: Expect): Promise<WriteResult> {
    const [result] = await this.versioned.write(CATEGORY, async (em) => {
      const [cur] = await this.lockTree(em, 'id = ?', [id]);
      if (cur === undefined || cur.deleted_at !== null) throw new NotStored();
      if (typeof expect === 'number' && cur.version !== expect) throw new VersionMismatch(cur.version);
      const children: unknown[] = await em.query(
        'SELECT id FROM categories WHERE parent_id = ? AND deleted_at IS NULL LIMIT 1 FOR UPDATE',
        [id],
      );
      if (children.length > 0) throw new TreeConflict(`category ${id} has subcategories`);
      const version = cur.version + 1;
      const now = new Date();
      await em.query(
        'UPDATE categories SET version = ?, doc = NULL, updated_at = ?, deleted_at = ? WHERE id = ?',
        [version, now, now, id],
      );
      await this.versioned.insertOutbox(em, CATEGORY, [{ id, version }]);
      return [{ id, version, doc: null, created: false }];
    });
    return result;
  }

  private lockTree(em: EntityManager, where: string, values: unknown[]): Promise<TreeRow[]> {
    return em.query(
      `SELECT id, version, path, doc, deleted_at FROM categories WHERE ${where} FOR UPDATE`,
      values,
    );
  }

  /** The parent's path (locked, so it can neither move nor go while this commits); [] for a root. */
  private async parentPath(em: EntityManager, id: number, parentId: number | null): Promise<number[]> {
    if (parentId === null) return [];
    if (parentId === id) throw new TreeConflict(`category ${id} cannot be its own parent`);
    const [parent] = await this.lockTree(em, 'id = ?', [parentId]);
    if (parent === undefined || parent.deleted_at !== null)
      throw new TreeConflict(`parent category ${parentId} does not exist`);
    const path = pathIds(parent.path);
    if (path.includes(id))
      throw new TreeConflict(`category ${parentId} is below ${id}: that would be a cycle`);
    if (path.length >= MAX_DEPTH) throw new TreeConflict(`the tree is at most ${MAX_DEPTH} levels deep`);
    return path;
  }

  /** Every live category below the moved one gets the new path prefix, a new version and document. */
  private async movePaths(
    em: EntityManager,
    oldPath: string,
    newPath: readonly number[],
    now: Date,
  ): Promise<WriteResult[]> {
    const below = await this.lockTree(em, 'path LIKE ? AND path <> ? AND deleted_at IS NULL', [
      `${oldPath}%`,
      oldPath,
    ]);
    const oldDepth = pathIds(oldPath).length;
    const out: WriteResult[] = [];
    for (const row of below) {
      const path = [...newPath, ...pathIds(row.path).slice(oldDepth)];
      if (path.length > MAX_DEPTH) throw new TreeConflict(`the tree is at most ${MAX_DEPTH} levels deep`);
      const version = row.version + 1;
      const stored = JSON.parse(row.doc ?? '{}') as CategoryInputDto;
      const doc = serializeCategory(Number(row.id), version, now, path, stored);
      await em.query('UPDATE categories SET path = ?, version = ?, doc = ?, updated_at = ? WHERE id = ?', [
        pathOf(path),
        version,
        doc,
        now,
        row.id,
      ]);
      out.push({ id: Number(row.id), version, doc, created: false });
    }
    return out;
  }
}
