import { describe, it } from 'node:test';
import { expect } from 'expect';
import { loadConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import type { EdgeCacheRepository } from '@catalog/invalidation/repositories/edge-cache.repository';
import type {
  InvalidationEntry,
  InvalidationRepository,
} from '@catalog/invalidation/repositories/invalidation.repository';
import { compareStreamIds, StreamPurger } from './stream-purger';

class FakeStream {
  entries: InvalidationEntry[] = [];
  saved = new Map<string, string>();
  trimmed = '0-0';
  tail() {
    return Promise.resolve(this.entries.at(-1)?.id ?? '0-0');
  }
  lastTrimmed() {
    return Promise.resolve(this.trimmed);
  }
  position(node: string) {
    return Promise.resolve(this.saved.get(node) ?? null);
  }
  savePosition(node: string, position: string) {
    this.saved.set(node, position);
    return Promise.resolve();
  }
  read(after: string, count: number) {
    return Promise.resolve(this.entries.filter((e) => compareStreamIds(e.id, after) > 0).slice(0, count));
  }
  close() {}
}

class FakeVarnish {
  down = false;
  purged: string[][] = [];
  all = 0;
  readonly enabled = true;
  purge(tags: readonly string[]) {
    if (this.down) return Promise.reject(new Error('connection refused'));
    this.purged.push([...tags]);
    return Promise.resolve(tags.length);
  }
  purgeAll() {
    if (this.down) return Promise.reject(new Error('connection refused'));
    this.all++;
    return Promise.resolve();
  }
}

function purger(stream: FakeStream, varnish: FakeVarnish, env: Record<string, string> = {}) {
  const config = loadConfig({ NODE_NAME: 'node-1', PURGE_REPEAT_MS: '0', ...env });
  const logger = new AppLogger({ level: 'error', nodeName: 'node-1', stdout: false });
  return new StreamPurger(
    stream as unknown as InvalidationRepository,
    varnish as unknown as EdgeCacheRepository,
    config,
    new Metrics(false),
    logger,
  );
}

describe(StreamPurger.name, () => {
  it('orders stream ids by time, then sequence', () => {
    expect(compareStreamIds('1700000000000-2', '1700000000000-10')).toBeLessThan(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-10')).toBeGreaterThan(0);
    expect(compareStreamIds('5-1', '5-1')).toBe(0);
  });

  it('purges the tags of new entries, then advances and records its position', async () => {
    const stream = new FakeStream();
    stream.saved.set('node-1', '0-1');
    stream.entries = [
      { id: '0-1', tags: ['product:9'] },
      { id: '5-0', tags: ['product:1', 'product:2'] },
      { id: '6-0', tags: ['product:2', 'product:3'] },
    ];
    const varnish = new FakeVarnish();
    const p = purger(stream, varnish);
    await p.step(0);
    expect(varnish.purged).toEqual([['product:1', 'product:2', 'product:3']]);
    expect(stream.saved.get('node-1')).toBe('6-0');
    expect(await p.waitFor('6-0', 0)).toBe(true);
  });

  it('keeps its position and retries the same entries while Varnish is down', async () => {
    const stream = new FakeStream();
    stream.saved.set('node-1', '0-0');
    stream.entries = [{ id: String(Date.now() - 5_000) + '-0', tags: ['product:7'] }];
    const varnish = new FakeVarnish();
    varnish.down = true;
    const p = purger(stream, varnish, { PURGE_READY_MAX_LAG_MS: '1000' });
    await expect(p.step(0)).rejects.toThrow('connection refused');
    expect(stream.saved.get('node-1')).toBe('0-0');
    expect(p.ready()).toBe(false);
    expect(p.state()).toBe('catching-up');
    varnish.down = false;
    await p.step(0);
    expect(varnish.purged).toEqual([['product:7']]);
    expect(stream.saved.get('node-1')).toBe(stream.entries[0].id);
    expect(p.ready()).toBe(true);
  });

  it('is not ready when entries it read wait longer than the allowed lag', async () => {
    const stream = new FakeStream();
    stream.saved.set('node-1', '1-0');
    stream.entries = [{ id: '1-0', tags: ['product:1'] }];
    const varnish = new FakeVarnish();
    const p = purger(stream, varnish, { PURGE_READY_MAX_LAG_MS: '1000' });
    await p.step(0);
    expect(p.ready()).toBe(true);
    stream.entries.push({ id: `${Date.now() - 3_000}-0`, tags: ['product:2'] });
    varnish.down = true;
    await expect(p.step(0)).rejects.toThrow();
    expect(p.state()).toBe('lagging');
  });

  it('purges everything and starts at the end when it has no recorded position', async () => {
    const stream = new FakeStream();
    stream.entries = [{ id: '3-0', tags: ['product:1'] }];
    const varnish = new FakeVarnish();
    const p = purger(stream, varnish);
    await p.step(0);
    expect(varnish.all).toBe(1);
    expect(varnish.purged).toEqual([]);
    expect(stream.saved.get('node-1')).toBe('3-0');
    expect(p.ready()).toBe(true);
  });

  it('purges everything when entries after its position were trimmed away', async () => {
    const stream = new FakeStream();
    stream.saved.set('node-1', '2-0');
    stream.trimmed = '4-0';
    stream.entries = [{ id: '5-0', tags: ['product:1'] }];
    const varnish = new FakeVarnish();
    const p = purger(stream, varnish);
    await p.step(0);
    expect(varnish.all).toBe(1);
    expect(stream.saved.get('node-1')).toBe('5-0');
  });

  it('lets a writer wait for its entry, and gives up after the timeout', async () => {
    const stream = new FakeStream();
    stream.saved.set('node-1', '0-0');
    const varnish = new FakeVarnish();
    const p = purger(stream, varnish);
    await p.step(0);
    const waiting = p.waitFor('8-0', 5_000);
    stream.entries = [{ id: '8-0', tags: ['product:4'] }];
    await p.step(0);
    expect(await waiting).toBe(true);
    expect(await p.waitFor('9-0', 20)).toBe(false);
  });
});
