import fc from 'fast-check';

/** The OpenAPI 3.0 schema subset the contract uses, plus `x-propertyNames` (JSON Schema's propertyNames). */
export interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  nullable?: boolean;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  maxProperties?: number;
  'x-propertyNames'?: { pattern: string };
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}

export type Doc = { components?: { schemas?: Record<string, Schema> } };

/** Arbitrary sizes are kept small (a body is a request, not a load test); limits are still reached. */
const SOFT_MAX = 6;

/**
 * Values the schema accepts: the positive side of the fuzz. Every value drawn here must be accepted by the
 * server (no 400), which is what "the contract says exactly what the server accepts" means in practice.
 * Lengths go up to the schema's maxima now and then, so the limits themselves are exercised.
 */
export function valid(doc: Doc, schema: Schema): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  let arb = base(doc, s);
  if (s.nullable) arb = fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) });
  return arb;
}

function resolve(doc: Doc, s: Schema): Schema {
  if (!s.$ref) return s;
  const name = s.$ref.replace('#/components/schemas/', '');
  const target = doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolved ${s.$ref}`);
  return resolve(doc, target);
}

function base(doc: Doc, s: Schema): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.oneOf) return fc.oneof(...s.oneOf.map((o) => valid(doc, o)));
  if (s.anyOf) return fc.oneof(...s.anyOf.map((o) => valid(doc, o)));
  if (s.allOf) throw new Error('allOf is not used by the contract');
  switch (s.type ?? (s.properties ? 'object' : undefined)) {
    case 'string':
      return string(s);
    case 'integer':
      return integer(s);
    case 'number':
      return fc.oneof(integer(s), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valid(doc, s.items ?? {}), {
        minLength: s.minItems ?? 0,
        maxLength: reachable(s.minItems ?? 0, s.maxItems),
      });
    case 'object':
      return object(doc, s);
    default:
      return fc.jsonValue();
  }
}

function integer(s: Schema): fc.Arbitrary<number> {
  const min = s.minimum ?? Number.MIN_SAFE_INTEGER;
  const max = s.maximum ?? Number.MAX_SAFE_INTEGER;
  return fc.oneof(
    fc.integer({ min: Math.max(min, -1e6), max: Math.min(max, 1e6) }),
    fc.constantFrom(min, max),
    fc.maxSafeInteger().filter((n) => n >= min && n <= max),
  );
}

function string(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength;
  // RFC 3339 date-times, years 1000-9999: MariaDB's DATETIME range. (The contract's pattern says four digits;
  // the service refuses years before 0100, class-validator's strict ISO 8601: a gap noted in docs/decisions.md.)
  // A pattern on one only narrows it further, so the format decides.
  if (s.format === 'date-time')
    return fc
      .date({
        noInvalidDate: true,
        min: new Date('1000-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
      })
      .map((d) => d.toISOString());
  if (s.pattern) {
    const within = (v: string) => v.length >= min && (max === undefined || v.length <= max);
    return fc.stringMatching(new RegExp(s.pattern)).filter(within);
  }
  // Any Unicode, the limits reached now and then (a 5000-character description is a valid description).
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: reachable(min, max) }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: max ?? min, maxLength: max ?? min + 1 }) },
  );
}

function object(doc: Doc, s: Schema): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const known = fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valid(doc, v)])), {
    requiredKeys: Object.keys(props).filter((k) => required.has(k)),
  });
  const extra = s.additionalProperties;
  if (typeof extra !== 'object' || Object.keys(props).length > 0) return known.map(window);
  // A map: keys from x-propertyNames (or any string), sizes within min/maxProperties.
  const key = s['x-propertyNames']
    ? fc.stringMatching(new RegExp(s['x-propertyNames'].pattern))
    : fc.string({ maxLength: 20 });
  const minKeys = s.minProperties ?? 0;
  return fc
    .uniqueArray(fc.tuple(key, valid(doc, extra)), {
      selector: ([k]) => k,
      minLength: minKeys,
      maxLength: reachable(minKeys, s.maxProperties),
    })
    .map((entries) => Object.fromEntries(entries));
}

/**
 * The one rule across fields that JSON Schema cannot state, written in the field's description instead
 * (a price's `validTo` "must be after validFrom"): a drawn window is put in order, an empty one dropped.
 */
function window(o: Record<string, unknown>): Record<string, unknown> {
  const { validFrom: from, validTo: to } = o;
  if (typeof from !== 'string' || typeof to !== 'string') return o;
  if (from === to) return { ...o, validTo: null };
  return from < to ? o : { ...o, validFrom: to, validTo: from };
}

/** Mostly small, sometimes the maximum itself. */
function reachable(min: number, max: number | undefined): number {
  return max === undefined ? Math.max(min, SOFT_MAX) : Math.max(min, max);
}
