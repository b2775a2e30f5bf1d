/**
 * The committed form of a contract: object keys sorted at every level, arrays in their own order, two-space
 * indent and a final newline. Route and decorator order in the code then never shows up as a diff, and
 * the same document always serialises to the same bytes.
 */
export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => canonicalize(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = canonicalize(v);
  }
  return out as T;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value), null, 2) + '\n';
}
