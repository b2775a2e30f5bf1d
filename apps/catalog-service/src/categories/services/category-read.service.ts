import { Injectable } from '@nestjs/common';
import {
  ListResult,
  OneResult,
  TieredReader,
  TieredReads,
} from '@catalog/record-types/services/tiered-reads.service';
import { CategoryCacheRepository } from '../repositories/category-cache.repository';

export function categoryEtag(id: number, version: number): string {
  return `"c${id}-v${version}"`;
}

/** Categories by id: the record-type machinery's tiered read as it is. */
@Injectable()
export class CategoryReadService {
  private readonly tiered: TieredReader;

  constructor(cache: CategoryCacheRepository, reads: TieredReads) {
    this.tiered = reads.for(cache);
  }

  getMany(ids: readonly number[]): Promise<ListResult> {
    return this.tiered.getMany(ids);
  }

  async getOne(id: number): Promise<OneResult & { etag: string }> {
    const one = await this.tiered.getOne(id);
    return { ...one, etag: one.doc ? categoryEtag(id, one.version) : '' };
  }
}
