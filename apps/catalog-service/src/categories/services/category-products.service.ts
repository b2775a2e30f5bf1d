import { Inject, Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ServiceUnavailableError } from '@app/errors';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { isBreakerRefusal, StoreBreakers } from '@catalog/health/services/store-breaker';
import { decodeCursor, encodeCursor } from '@catalog/categories/dtos/category-cursor';
import {
  CategoryMembershipRepository,
  Membership,
} from '@catalog/categories/repositories/category-membership.repository';
import { CategoryProductsCacheRepository } from '@catalog/categories/repositories/category-products-cache.repository';

export interface ProductPage {
  productIds: number[];
  nextCursor: string | null;
  etag: string;
  tier: 'redis' | 'mysql';
}

/** Pairs per rebuild step: one keyset query and one script call each. */
const REBUILD_PAGE = 1_000;
const REBUILD_LEASE_MS = 60_000;

/**
 * The walk of a category's products in product id order. A page is the ids above the cursor's, from the
 * category's Redis set when that set is complete, else from MySQL (a keyset range of the primary key),
 * which also starts a rebuild of the set in the background. Every page is `limit + 1` ids asked for, so
 * the last page is known without counting anything.
 */
@Injectable()
export class CategoryProductsService {
  private readonly rebuilding = new Set<number>();

  constructor(
    private readonly membership: CategoryMembershipRepository,
    private readonly cache: CategoryProductsCacheRepository,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly breakers: StoreBreakers,
    private readonly logger: AppLogger,
  ) {}

  private get log() {
    return this.logger.channel('categories');
  }

  async page(categoryId: number, limit: number, cursor: string | undefined): Promise<ProductPage> {
    const after = cursor === undefined ? 0 : decodeCursor(cursor, categoryId);
    let ids = await this.fromRedis(categoryId, after, limit + 1);
    const tier = ids === null ? 'mysql' : 'redis';
    if (ids === null) {
      ids = await this.fromMysql(categoryId, after, limit + 1);
      if (ids.length > 0) this.rebuildInBackground(categoryId);
    }
    const more = ids.length > limit;
    const productIds = more ? ids.slice(0, limit) : ids;
    const nextCursor = more ? encodeCursor(categoryId, productIds[productIds.length - 1]) : null;
    const etag =
      '"w' + hash('sha1', `${categoryId}:${after}:${productIds.join(',')}:${more}`, 'base64url') + '"';
    return { productIds, nextCursor, etag, tier };
  }

  /**
   * Fills the category's set from MySQL through the same guarded apply the writes use, then marks it
   * complete. Safe beside writes: the rebuild never clears the set, and each pair it brings carries the
   * version MySQL had; a write that changed the pair since carries a higher one and wins whichever comes
   * first (docs/categories.md, "Rebuilding a set"). Returns the pairs applied, or null when another
   * rebuild of this category runs.
   */
  async rebuild(categoryId: number): Promise<number | null> {
    if (!(await this.cache.acquireRebuild(categoryId, this.config.NODE_NAME, REBUILD_LEASE_MS))) return null;
    try {
      let after = 0;
      let applied = 0;
      for (;;) {
        const pairs = await this.membership.rebuildPage(categoryId, after, REBUILD_PAGE);
        if (pairs.length > 0) applied += await this.cache.apply(pairs);
        if (pairs.length < REBUILD_PAGE) break;
        after = pairs[pairs.length - 1].productId;
      }
      await this.cache.markComplete(categoryId);
      this.log.info('category set rebuilt from mysql', { categoryId, applied });
      return applied;
    } finally {
      await this.cache.releaseRebuild(categoryId).catch(() => undefined);
    }
  }

  /**
   * Brings the category sets of these products to their committed pairs. A product write's own states
   * carry their pairs (read in its transaction); the outbox relay's do not, so they are read from the writer.
   */
  async applyMemberships(states: ReadonlyArray<{ id: number; memberships?: Membership[] }>): Promise<void> {
    const pairs = states.every((s) => s.memberships)
      ? states.flatMap((s) => s.memberships!)
      : await this.membership.findByProducts(states.map((s) => s.id));
    await this.cache.apply(pairs);
  }

  private rebuildInBackground(categoryId: number): void {
    if (this.rebuilding.has(categoryId) || !this.breakers.redis.closed) return;
    this.rebuilding.add(categoryId);
    this.rebuild(categoryId)
      .catch((e: unknown) =>
        this.log.warn(`category set rebuild failed, the next read retries: ${(e as Error).message}`, {
          categoryId,
        }),
      )
      .finally(() => this.rebuilding.delete(categoryId));
  }

  /** null: Redis cannot say (set incomplete, or Redis failing): the caller asks MySQL. */
  private async fromRedis(categoryId: number, after: number, n: number): Promise<number[] | null> {
    try {
      const page = await this.breakers.redis.fire(() => this.cache.page(categoryId, after, n));
      return page.complete ? page.ids : null;
    } catch (e) {
      // An open breaker is counted by the breaker's metric, not logged per read.
      if (isBreakerRefusal(e)) return null;
      const kind = redisErrorKind(e);
      this.metrics.redisErrors.inc({ op: 'read', kind });
      this.log.warn(`category page from redis failed, reading mysql: ${(e as Error).message}`, { kind });
      return null;
    }
  }

  private async fromMysql(categoryId: number, after: number, n: number): Promise<number[]> {
    try {
      return await this.breakers.mysql.fire(() => this.membership.page(categoryId, after, n));
    } catch (e) {
      throw new ServiceUnavailableError(
        `mysql read failed: ${(e as Error).message}`,
        {},
        this.config.RETRY_AFTER_SECONDS,
      );
    }
  }
}
