import { ValidationError } from '@app/errors';
import { MAX_PRODUCT_ID } from './product.dto';

const DIGITS = /^[1-9][0-9]{0,15}$/;

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
  if (raw.length > max * 20) {
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

function clip(s: string): string {
  return s.length > 32 ? s.slice(0, 32) + '…' : s;
}
