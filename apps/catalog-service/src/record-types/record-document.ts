const VERSION_KEY = Buffer.from(',"version":');

/**
 * Version from a stored document's head without parsing it; -1 if the head is not ours. Every record type
 * stores its documents starting `{"id":<id>,"version":<v>,` (the write path serialises them so).
 */
export function versionOf(doc: Buffer): number {
  // Skip `{"id":<digits>` and check for `,"version":` by its first and last bytes: we wrote this head.
  let at = 6;
  while (at < doc.length && doc[at] >= 0x30 && doc[at] <= 0x39) at++;
  if (doc[at] !== 0x2c || doc[at + 2] !== 0x76 || doc[at + VERSION_KEY.length - 1] !== 0x3a) return -1;
  let v = 0;
  for (let i = at + VERSION_KEY.length; i < doc.length; i++) {
    const c = doc[i];
    if (c < 0x30 || c > 0x39) return v;
    v = v * 10 + (c - 0x30);
  }
  return -1;
}
