import { ValidationError } from '@app/errors';
import { plainToInstance } from 'class-transformer';
import { ValidationError as ClassValidationError, validateSync } from 'class-validator';

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/**
 * Objects and arrays nested deeper than this are refused before class-transformer sees them: it recurses
 * once per level and overflows the stack near 10,000 levels (a 60 KB body). The deepest valid product is 4
 * levels (product > variants > variant > attributes), so no valid body comes near it (docs/errors.md).
 */
export const MAX_JSON_DEPTH = 16;

/** Iterative, so the check itself cannot overflow; it stops at the first container past the limit. */
export function exceedsDepth(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function flatten(errors: ClassValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) =>
      m.startsWith('property ') ? `${path}: unknown field` : `${path}: ${m}`,
    );
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/** Validates a JSON body into a DTO class (class-validator), refusing unknown fields. */
export function parseDto<T extends object>(cls: new () => T, raw: unknown): Parsed<T> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: ['body must be a JSON object'] };
  }
  if (exceedsDepth(raw)) {
    return { ok: false, errors: [`body is nested deeper than ${MAX_JSON_DEPTH} levels`] };
  }
  const instance = plainToInstance(cls, raw);
  const errors = validateSync(instance, OPTIONS);
  return errors.length === 0 ? { ok: true, value: instance } : { ok: false, errors: flatten(errors) };
}

/** `{"items": [...]}` with 1..max items and nothing else, or a 400. */
export function batchItems(body: unknown, max: number): unknown[] {
  const items = (body as { items?: unknown } | null)?.items;
  const extra =
    typeof body === 'object' && body !== null ? Object.keys(body).filter((k) => k !== 'items') : [];
  if (!Array.isArray(items) || items.length === 0 || items.length > max || extra.length > 0)
    throw new ValidationError(`body must be {"items": [...]} with 1..${max} items`);
  return items;
}

/** The valid body, or a 400 naming every problem of it. */
export function requireInput<T extends object>(cls: new () => T, raw: unknown, what: string): T {
  const parsed = parseDto(cls, raw);
  if (!parsed.ok)
    throw new ValidationError(`the ${what} is invalid: ${parsed.errors.join('; ')}`, {
      errors: parsed.errors,
    });
  return parsed.value;
}
