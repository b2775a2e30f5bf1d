import Redis from 'ioredis';
import { INVALIDATION_STREAM } from '../invalidation-stream';

export interface InvalidationEntry {
  /** Stream entry id, `<ms>-<seq>`: the position a purger records once it has purged this entry. */
  id: string;
  /** Edge cache tags of the records it changed (and of the unique values they now carry). */
  tags: string[];
}

/**
 * One Redis' invalidation stream (written by RecordCacheRepository.apply in the same script as the Redis update)
 * and each node's purge position in it (`purge:pos:<node>`: position + appliedAt, the per-node record that
 * purges were applied).
 */
export class InvalidationRepository {
  /** XREAD BLOCK holds its connection, so it gets its own. */
  private reader?: Redis;

  constructor(
    private readonly redis: Redis,
    private readonly name = 'product',
  ) {}

  static positionKey(node: string): string {
    return `purge:pos:${node}`;
  }

  /** Id of the newest entry, '0-0' when the stream is empty or absent. */
  async tail(): Promise<string> {
    const [last] = await this.redis.xrevrange(INVALIDATION_STREAM, '+', '-', 'COUNT', 1);
    return last?.[0] ?? '0-0';
  }

  /** The newest id ever trimmed away ('0-0' if none): a reader whose position is older missed entries. */
  async lastTrimmed(): Promise<string> {
    let info: unknown[];
    try {
      info = (await this.redis.xinfo('STREAM', INVALIDATION_STREAM)) as unknown[];
    } catch (e) {
      if (/no such key/i.test((e as Error).message)) return '0-0';
      throw e;
    }
    const i = info.indexOf('max-deleted-entry-id');
    return i >= 0 ? String(info[i + 1]) : '0-0';
  }

  /** Up to `count` entries after `after`, waiting up to blockMs for the first one. */
  async read(after: string, count: number, blockMs: number): Promise<InvalidationEntry[]> {
    this.reader ??= this.redis.duplicate({ connectionName: `catalog:${this.name}-purger` });
    const res = await this.reader.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      INVALIDATION_STREAM,
      after,
    );
    if (!res) return [];
    return res[0][1].map(([id, fields]) => {
      const list = (name: string) => {
        const i = fields.indexOf(name);
        return i >= 0 ? fields[i + 1].split(' ').filter((s) => s !== '') : [];
      };
      const tags = list('tags');
      // Entries written by the release before record types carry product ids and skus only.
      if (tags.length === 0 && fields.indexOf('type') < 0)
        tags.push(...list('ids').map((i) => `product:${i}`), ...list('skus').map((s) => `sku:${s}`));
      return { id, tags };
    });
  }

  async position(node: string): Promise<string | null> {
    return this.redis.hget(InvalidationRepository.positionKey(node), 'position');
  }

  async savePosition(node: string, position: string, appliedAtMs: number): Promise<void> {
    await this.redis.hset(InvalidationRepository.positionKey(node), {
      position,
      appliedAt: String(appliedAtMs),
    });
  }

  /** Stops a blocked XREAD at once (shutdown). */
  close(): void {
    this.reader?.disconnect();
    this.reader = undefined;
  }
}
