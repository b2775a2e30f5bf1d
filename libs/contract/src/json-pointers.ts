/** JSON pointers (RFC 6901) where two documents differ: `~ /a/b` changed, `+` only in b, `-` only in a. */
export function changedPointers(a: unknown, b: unknown, at = ''): string[] {
  if (isObject(a) && isObject(b)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const p = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!(k in b)) out.push(`- ${p}`);
      else if (!(k in a)) out.push(`+ ${p}`);
      else out.push(...changedPointers(a[k], b[k], p));
    }
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`~ ${at || '/'}`];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
