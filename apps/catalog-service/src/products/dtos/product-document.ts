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
    // JSON.stringify drops undefined: a product without a gtin has no gtin key, as before it existed.
    gtin: p.gtin ?? undefined,
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

const SKU_KEY = Buffer.from(',"sku":"');

/** Whether the document is the product with this sku, read off its head (`{"id":…,"version":…,"sku":"…"`). */
export function hasSku(doc: Buffer, sku: string): boolean {
  const at = doc.indexOf(SKU_KEY);
  if (at < 0 || at > 48) return false;
  const start = at + SKU_KEY.length;
  // skus are ASCII (the SKU pattern), so latin1 compares them byte for byte.
  return doc.toString('latin1', start, start + sku.length + 1) === sku + '"';
}

type Texts = Record<string, string>;

/** Keys of a localized text map that a `locale` keeps: the locale itself and its regional variants. */
const keeps = (key: string, locale: string) => key === locale || key.startsWith(locale + '-');

/**
 * The document with only `locale`'s entries in its localized texts (name, description, image alt texts). The one place a
 * read parses a stored document: a composed read with `locale` pays it per product (docs/architecture.md).
 */
export function keepLocale(doc: Buffer, locale: string): Buffer {
  const p = JSON.parse(doc.toString('utf8')) as {
    name?: Texts;
    description?: Texts;
    images?: Array<{ alt?: Texts }>;
  };
  const only = (map: Texts) => Object.fromEntries(Object.entries(map).filter(([k]) => keeps(k, locale)));
  if (p.name) p.name = only(p.name);
  if (p.description) p.description = only(p.description);
  for (const image of p.images ?? []) if (image.alt) image.alt = only(image.alt);
  return Buffer.from(JSON.stringify(p));
}
