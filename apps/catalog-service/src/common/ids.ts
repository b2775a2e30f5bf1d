import { ValidationError } from '@app/errors';
import { MAX_PRODUCT_ID, SKU } from '@catalog/products/dtos/product.dto';

const DIGITS = /^[1-9][0-9]{0,15}$/;
/** The largest list a read takes (the v1 promise); MAX_IDS configures the same limit at run time. */
export const MAX_LIST = 500;
const MAX_ID_CHARS = 20;
const MAX_SKU_CHARS = 65;

/** A regex source for the decimal integers 1..max written plainly, so a schema can say what parseId takes. */
export function integerUpTo(max: number): string {
  const m = String(max);
  const alternatives = m.length > 1 ? [`[1-9][0-9]{0,${m.length - 2}}`] : [];
  for (let i = 0; i < m.length; i++) {
    const d = Number(m[i]);
    const low = i === 0 ? 1 : 0;
    if (d <= low) continue;
    const rest = m.length - i - 1;
    const digit = d - 1 === low ? String(low) : `[${low}-${d - 1}]`;
    alternatives.push(`${m.slice(0, i)}${digit}${rest > 1 ? `[0-9]{${rest}}` : rest ? '[0-9]' : ''}`);
  }
  alternatives.push(m);
  return `(?:${alternatives.join('|')})`;
}

const ID = integerUpTo(MAX_PRODUCT_ID);
const SKU_BODY = SKU.source.slice(1, -1);
/** What the contract says about `ids`, `skus` and the path `id`: exactly what the parsers below take. */
export const ID_LIST_SCHEMA = {
  type: 'string' as const,
  pattern: `^${ID}(?:,${ID})*$`,
  maxLength: MAX_LIST * MAX_ID_CHARS,
};
export const SKU_LIST_SCHEMA = {
  type: 'string' as const,
  pattern: `^${SKU_BODY}(?:,${SKU_BODY})*$`,
  maxLength: MAX_LIST * MAX_SKU_CHARS,
};
export const ID_SCHEMA = { type: 'integer' as const, minimum: 1, maximum: MAX_PRODUCT_ID };

/** A path or query id: a positive integer up to 2^53-1, written plainly (no sign, exponent or leading zero). */
export function parseId(raw: string | undefined): number | null {
  if (raw === undefined || !DIGITS.test(raw)) return null;
  const n = Number(raw);
  return n <= MAX_PRODUCT_ID ? n : null;
}

export function requireId(raw: string | undefined): number {
  const id = parseId(raw);
  if (id === null) {
    throw new ValidationError(
      `id must be an integer between 1 and ${MAX_PRODUCT_ID}; got "${clip(raw ?? '')}"`,
      {
        invalid: [clip(raw ?? '')],
      },
    );
  }
  return id;
}

/** `ids=1,2,3`: duplicates are dropped (first appearance wins) before the limit applies. */
export function parseIdList(raw: unknown, max: number): number[] {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new ValidationError('ids is required: a comma-separated list of product ids', { invalid: [] });
  }
  if (raw.length > max * MAX_ID_CHARS) {
    throw new ValidationError(`ids is too long: at most ${max} distinct ids are allowed`, { invalid: [] });
  }
  const parts = raw.split(',');
  const invalid: string[] = [];
  const seen = new Set<number>();
  const ids: number[] = [];
  for (const part of parts) {
    const id = parseId(part);
    if (id === null) invalid.push(clip(part));
    else if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  if (invalid.length > 0) {
    throw new ValidationError(
      `ids must be integers between 1 and ${MAX_PRODUCT_ID}; invalid: ${invalid
        .slice(0, 20)
        .map((v) => JSON.stringify(v))
        .join(', ')}`,
      { invalid: invalid.slice(0, 100) },
    );
  }
  if (ids.length > max) {
    throw new ValidationError(`too many ids: ${ids.length} distinct ids, at most ${max} are allowed`, {
      invalid: ids.slice(max).slice(0, 100).map(String),
    });
  }
  return ids;
}

/** `skus=A,B,C`: the same rules as ids (duplicates dropped, first appearance wins, then the limit). */
export function parseSkuList(raw: unknown, max: number): string[] {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new ValidationError('skus is required: a comma-separated list of skus', { invalid: [] });
  }
  if (raw.length > max * MAX_SKU_CHARS) {
    throw new ValidationError(`skus is too long: at most ${max} distinct skus are allowed`, { invalid: [] });
  }
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const part of raw.split(',')) {
    if (!SKU.test(part)) invalid.push(clip(part));
    else seen.add(part);
  }
  if (invalid.length > 0) {
    throw new ValidationError(
      `skus must be 1..64 characters of letters, digits, ".", "_" or "-"; invalid: ${invalid
        .slice(0, 20)
        .map((v) => JSON.stringify(v))
        .join(', ')}`,
      { invalid: invalid.slice(0, 100) },
    );
  }
  const skus = [...seen];
  if (skus.length > max) {
    throw new ValidationError(`too many skus: ${skus.length} distinct skus, at most ${max} are allowed`, {
      invalid: skus.slice(max).slice(0, 100),
    });
  }
  return skus;
}

/**
 * A read takes exactly the parameters it documents: anything else is a 400 naming it, so nobody can make a
 * new cache object by adding `&x=1` (docs/errors.md). `name` is that read's one list parameter, if any; it
 * must come once (`ids=1&ids=2` is a mistake a generic client makes, not a list).
 */
export function onlyParam(query: Record<string, unknown>, name?: string): unknown {
  const unknown = Object.keys(query).filter((k) => k !== name);
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown
        .slice(0, 20)
        .map((k) => JSON.stringify(clip(k)))
        .join(', ')}; this endpoint takes ${name ? `only ${name}` : 'no query parameters'}`,
      { invalid: unknown.slice(0, 100).map(clip) },
    );
  }
  const value = name === undefined ? undefined : query[name];
  if (Array.isArray(value)) {
    throw new ValidationError(`${name} must be given once, as one comma-separated list`, {
      invalid: value.slice(0, 100).map((v) => clip(String(v))),
    });
  }
  return value;
}

/** Like onlyParam, for an endpoint that takes several parameters: each at most once, nothing else. */
export function onlyParams(
  query: Record<string, unknown>,
  names: readonly string[],
): Record<string, unknown> {
  const unknown = Object.keys(query).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown
        .slice(0, 20)
        .map((k) => JSON.stringify(clip(k)))
        .join(', ')}; this endpoint takes ${names.join(', ')}`,
      { invalid: unknown.slice(0, 100).map(clip) },
    );
  }
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = query[name];
    if (Array.isArray(value)) throw new ValidationError(`${name} must be given once`);
    out[name] = value;
  }
  return out;
}

/** A market (`de-EUR`) this service is configured for; 400 otherwise. */
export function parseMarket(raw: unknown, markets: ReadonlyMap<string, unknown>): string {
  if (typeof raw !== 'string' || raw === '')
    throw new ValidationError('market is required, e.g. market=de-EUR');
  if (!markets.has(raw))
    throw new ValidationError(
      `unknown market ${JSON.stringify(clip(raw))}; markets: ${[...markets.keys()].join(', ')}`,
      {
        invalid: [clip(raw)],
      },
    );
  return raw;
}

export const MARKET_SCHEMA = { type: 'string' as const, pattern: '^[a-z]{2}-[A-Z]{3}$', example: 'de-EUR' };

function clip(s: string): string {
  return s.length > 32 ? s.slice(0, 32) + '…' : s;
}
