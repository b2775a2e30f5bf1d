import { serializeProduct } from '@catalog/products/dtos/product-document';
import { serializePrice } from '@catalog/prices/dtos/price-document';
import { serializeStock } from '@catalog/stock/dtos/stock-document';
import type { ProductInputDto } from '@catalog/products/dtos/product.dto';
import { DEMO_FIRST_LEAF, DEMO_LEAVES } from './demo-categories';

/** mulberry32: tiny, fast, and the same catalog for the same id on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BRANDS = ['Acme', 'Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay'];
const NOUNS = [
  'Trail Shoe',
  'Rain Jacket',
  'Backpack',
  'Headlamp',
  'Tent',
  'Sleeping Bag',
  'Water Bottle',
  'Fleece',
];
const NOUNS_DE = [
  'Trailschuh',
  'Regenjacke',
  'Rucksack',
  'Stirnlampe',
  'Zelt',
  'Schlafsack',
  'Trinkflasche',
  'Fleecejacke',
];
const NOUNS_FR = [
  'Chaussure de trail',
  'Veste de pluie',
  'Sac à dos',
  'Lampe frontale',
  'Tente',
  'Sac de couchage',
  'Gourde',
  'Polaire',
];
const ADJ = ['Light', 'Pro', 'Ultra', 'Classic', 'Explorer', 'Summit', 'Urban', 'Alpine'];
const COLORS = ['red', 'blue', 'black', 'green', 'grey', 'orange'];
const SIZES = ['S', 'M', 'L', 'XL'];
const LOREM =
  'Built for long days outside, with recycled materials, reinforced seams and a fit that works from the first ' +
  'kilometre to the last. Tested in the Alps and the Pyrenees by our own team before it reached the shop. ';

/** A leaf of the demo category tree (demo-categories.ts). */
const leaf = (x: number) => DEMO_FIRST_LEAF + Math.floor(x * DEMO_LEAVES);

export function demoProductInput(id: number): ProductInputDto {
  const r = rng(id);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const n = Math.floor(r() * NOUNS.length);
  const adj = pick(ADJ);
  const brand = pick(BRANDS);
  const color = pick(COLORS);
  const sku = `SKU-${String(id).padStart(8, '0')}`;
  return {
    sku,
    status: r() < 0.9 ? 'active' : 'draft',
    brand,
    name: {
      en: `${brand} ${adj} ${NOUNS[n]}`,
      de: `${brand} ${adj} ${NOUNS_DE[n]}`,
      fr: `${NOUNS_FR[n]} ${adj} ${brand}`,
    },
    description: {
      en: LOREM.slice(0, 120 + Math.floor(r() * 80)),
      de: LOREM.slice(0, 100 + Math.floor(r() * 60)),
    },
    categoryIds: [...new Set([leaf(r()), leaf(r())])],
    attributes: {
      color,
      weight_g: 100 + Math.floor(r() * 1900),
      waterproof: r() < 0.5,
      material: pick(['nylon', 'polyester', 'wool', 'cotton']),
    },
    images: [
      { url: `https://img.example.com/p/${id}/main.jpg`, alt: { en: `${brand} ${adj} ${NOUNS[n]}, front` } },
      { url: `https://img.example.com/p/${id}/side.jpg` },
    ],
    variants: SIZES.slice(0, 1 + Math.floor(r() * SIZES.length)).map((size) => ({
      sku: `${sku}-${size}`,
      attributes: { size, color },
    })),
  };
}

/** The stored row of a seeded product: version 1, a fixed timestamp, so seeding is deterministic. */
export function demoProductRow(id: number): {
  id: number;
  sku: string;
  status: string;
  doc: string;
  categoryIds: number[];
} {
  const input = demoProductInput(id);
  return {
    id,
    sku: input.sku,
    status: input.status,
    doc: serializeProduct(id, 1, SEED_TIME, input),
    categoryIds: input.categoryIds ?? [],
  };
}

export const SEED_TIME = new Date('2026-01-01T00:00:00.000Z');

/** A seeded price (version 1): amounts in minor units, every fifth one with a struck-through former price. */
export function demoPriceRow(id: number, market: string) {
  const amount = 499 + ((id * 7919 + market.charCodeAt(3) * 131) % 30_000);
  const strikeThrough = id % 5 === 0 ? amount + 1000 : null;
  const doc = serializePrice(id, 1, market, SEED_TIME, { amount, strikeThrough });
  return { id, scope: market, columns: [amount, strikeThrough ?? ''], doc };
}

/** A seeded stock level (version 1): some products out of stock, some low, most available. */
export function demoStockRow(id: number, warehouse: string) {
  const quantity = (id * 13 + warehouse.length * 7) % 40;
  return {
    id,
    scope: warehouse,
    columns: [quantity],
    doc: serializeStock(id, 1, warehouse, SEED_TIME, { quantity }),
  };
}
