import type { ProductInputDto } from './product.dto';

/**
 * The stored document is the API object serialised once, at write time, with a fixed key order that
 * starts `{"id":<id>,"version":<v>,`. Reads concatenate these bytes; the version is read off the head.
 */
export function serializeProduct(id: number, version: number, updatedAt: Date, p: ProductInputDto): string {
  return JSON.stringify({
    id,
    version,
    sku: p.sku,
    status: p.status,
    updatedAt: updatedAt.toISOString(),
    brand: p.brand ?? null,
    name: p.name,
    description: p.description ?? {},
    categoryIds: p.categoryIds ?? [],
    attributes: p.attributes ?? {},
    images: (p.images ?? []).map((i) => (i.alt ? { url: i.url, alt: i.alt } : { url: i.url })),
    variants: (p.variants ?? []).map((v) => ({ sku: v.sku, attributes: v.attributes })),
  });
}

const VERSION_KEY = Buffer.from(',"version":');

/** Version from the document head without parsing it; -1 if the head is not ours. */
export function versionOf(doc: Buffer): number {
  const at = doc.indexOf(VERSION_KEY, 6);
  if (at < 0 || at > 40) return -1;
  let v = 0;
  for (let i = at + VERSION_KEY.length; i < doc.length; i++) {
    const c = doc[i];
    if (c < 0x30 || c > 0x39) return v;
    v = v * 10 + (c - 0x30);
  }
  return -1;
}
