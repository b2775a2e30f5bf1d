/**
 * The demo category tree: 6 departments, 6 sections each, 7 leaves each (294 categories, ids 1..294, a
 * parent before its children). Demo products are assigned to leaves only (demo-catalog.ts).
 */
const ROOTS: Array<[en: string, de: string]> = [
  ['Hiking', 'Wandern'],
  ['Camping', 'Camping'],
  ['Climbing', 'Klettern'],
  ['Running', 'Laufen'],
  ['Winter', 'Winter'],
  ['Water', 'Wasser'],
];
const SECTIONS: Array<[en: string, de: string]> = [
  ['Footwear', 'Schuhe'],
  ['Jackets', 'Jacken'],
  ['Packs', 'Rucksäcke'],
  ['Lighting', 'Lampen'],
  ['Shelter', 'Zelte'],
  ['Accessories', 'Zubehör'],
];
const LEAVES: Array<[en: string, de: string]> = [
  ['Men', 'Herren'],
  ['Women', 'Damen'],
  ['Kids', 'Kinder'],
  ['Lightweight', 'Leicht'],
  ['Expedition', 'Expedition'],
  ['Sale', 'Angebote'],
  ['New', 'Neu'],
];

export const DEMO_FIRST_LEAF = 1 + ROOTS.length + ROOTS.length * SECTIONS.length;
export const DEMO_LEAVES = ROOTS.length * SECTIONS.length * LEAVES.length;

export interface DemoCategory {
  id: number;
  parentId: number | null;
  position: number;
  name: { en: string; de: string };
  slug: { en: string; de: string };
}

const slugOf = (s: string) =>
  s
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function demoCategories(): DemoCategory[] {
  const out: DemoCategory[] = [];
  const add = (id: number, parentId: number | null, position: number, en: string, de: string) =>
    out.push({ id, parentId, position, name: { en, de }, slug: { en: slugOf(en), de: slugOf(de) } });
  ROOTS.forEach(([en, de], r) => add(1 + r, null, r, en, de));
  ROOTS.forEach(([ren, rde], r) =>
    SECTIONS.forEach(([en, de], s) => {
      const section = 1 + ROOTS.length + r * SECTIONS.length + s;
      add(section, 1 + r, s, `${ren} ${en}`, `${rde} ${de}`);
      LEAVES.forEach(([len, lde], l) =>
        add(
          DEMO_FIRST_LEAF + (r * SECTIONS.length + s) * LEAVES.length + l,
          section,
          l,
          `${ren} ${en} ${len}`,
          `${rde} ${de} ${lde}`,
        ),
      );
    }),
  );
  return out.sort((a, b) => a.id - b.id);
}
