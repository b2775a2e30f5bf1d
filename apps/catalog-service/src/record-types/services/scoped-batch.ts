import { ServiceUnavailableError } from '@app/errors';
import type { Parsed } from '@catalog/common/parse-dto';
import type { WriteResult } from '../repositories/versioned-writer';

export interface ScopedBatchResult {
  id: number | null;
  scope: string | null;
  result: 'created' | 'replaced' | 'rejected';
  version?: number;
  errors?: string[];
}

/**
 * A batch of a scoped record type (prices of several markets, stock of several warehouses): invalid items
 * are rejected one by one, the valid ones written in one transaction per scope (each scope is one record
 * type), scopes one after the other. When the writer goes away after some scopes were written, those stand
 * and are answered as such; the rest are rejected as "send again" (a 503 only when nothing was written).
 */
export async function scopedBatch<T extends { id: number }>(
  rawItems: readonly unknown[],
  opts: {
    parse: (raw: unknown) => Parsed<T>;
    scopeOf: (item: T) => string;
    scopeName: string;
    configured: (scope: string) => boolean;
    write: (scope: string, items: T[]) => Promise<WriteResult[]>;
  },
): Promise<ScopedBatchResult[]> {
  const results = new Array<ScopedBatchResult>(rawItems.length);
  const byScope = new Map<string, Array<{ index: number; item: T }>>();
  const seen = new Set<string>();
  rawItems.forEach((raw, index) => {
    const parsed = opts.parse(raw);
    const id = parsed.ok ? parsed.value.id : null;
    const scope = parsed.ok ? opts.scopeOf(parsed.value) : null;
    const reject = (errors: string[]) => (results[index] = { id, scope, result: 'rejected', errors });
    if (!parsed.ok) return reject(parsed.errors);
    if (!opts.configured(scope!)) return reject([`${opts.scopeName}: ${scope} is not configured`]);
    if (seen.has(`${scope}:${id}`))
      return reject([`id: appears earlier in this batch for this ${opts.scopeName}`]);
    seen.add(`${scope}:${id}`);
    byScope.set(scope!, [...(byScope.get(scope!) ?? []), { index, item: parsed.value }]);
  });
  let written = 0;
  for (const [scope, items] of byScope) {
    let writes: WriteResult[];
    try {
      writes = await opts.write(
        scope,
        items.map((i) => i.item),
      );
    } catch (e) {
      if (!(e instanceof ServiceUnavailableError && written > 0)) throw e;
      for (const { index, item } of items)
        results[index] = {
          id: item.id,
          scope,
          result: 'rejected',
          errors: ['unavailable: the database is failing over; send this item again'],
        };
      continue;
    }
    written += writes.length;
    writes.forEach((w, k) => {
      results[items[k].index] = {
        id: w.id,
        scope,
        result: w.created ? 'created' : 'replaced',
        version: w.version,
      };
    });
  }
  return results;
}
