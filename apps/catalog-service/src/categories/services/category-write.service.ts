import { Injectable } from '@nestjs/common';
import { ConflictError } from '@app/errors';
import { Metrics } from '@app/metrics';
import type { WriteResult } from '@catalog/record-types/repositories/versioned-writer';
import {
  expectation,
  RecordWrites,
  writeProblem,
} from '@catalog/record-types/services/record-writes.service';
import type { CategoryInputDto } from '../dtos/category.dto';
import { CategoryCacheRepository } from '../repositories/category-cache.repository';
import { CategoryRepository, TreeConflict } from '../repositories/category.repository';
import { categoryEtag } from './category-read.service';

/**
 * The versioned write of categories: MySQL first (the category, and every category a move re-paths, each
 * with its outbox row), then the guarded Redis apply and the edge purge of `category:{id}` per written id.
 */
@Injectable()
export class CategoryWriteService {
  constructor(
    private readonly categories: CategoryRepository,
    private readonly cache: CategoryCacheRepository,
    private readonly recordWrites: RecordWrites,
    private readonly metrics: Metrics,
  ) {}

  /** The written category first, then the ones below it that moved with it. */
  async put(id: number, input: CategoryInputDto, version: number | null | undefined): Promise<WriteResult> {
    const results = await this.translate(
      () => this.categories.upsert(id, expectation(version), input),
      id,
      version,
    );
    await this.recordWrites.afterCommit(this.cache, results);
    this.metrics.writes.inc({ type: 'category', outcome: results[0].created ? 'created' : 'replaced' });
    return results[0];
  }

  async delete(id: number, version: number | null | undefined): Promise<void> {
    const result = await this.translate(
      () => this.categories.softDelete(id, expectation(version)),
      id,
      version,
    );
    await this.recordWrites.afterCommit(this.cache, [result]);
    this.metrics.writes.inc({ type: 'category', outcome: 'deleted' });
  }

  private async translate<T>(
    fn: () => Promise<T>,
    id: number,
    version: number | null | undefined,
  ): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TreeConflict) throw new ConflictError(e.message);
      throw writeProblem(e, `category ${id}`, (v) => categoryEtag(id, v), version);
    }
  }
}
