import { describe, it } from 'node:test';
import { expect } from 'expect';
import { ValidationError } from '@app/errors';
import { decodeCursor, encodeCursor } from './category-cursor';

describe('category walk cursor', () => {
  it('round-trips the last product id of its category, up to 2^53-1', () => {
    for (const id of [1, 42, 10_000_123, Number.MAX_SAFE_INTEGER]) {
      expect(decodeCursor(encodeCursor(7, id), 7)).toBe(id);
    }
  });

  it('is opaque base64url of a fixed length', () => {
    expect(encodeCursor(7, 42)).toMatch(/^[A-Za-z0-9_-]{28}$/);
  });

  it('rejects a cursor of another category', () => {
    expect(() => decodeCursor(encodeCursor(7, 42), 8)).toThrow(ValidationError);
  });

  it('rejects every single-character edit', () => {
    const good = encodeCursor(7, 42);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let rejected = 0;
    let edits = 0;
    for (let i = 0; i < good.length; i++) {
      for (const c of alphabet) {
        if (c === good[i]) continue;
        const edited = good.slice(0, i) + c + good.slice(i + 1);
        edits++;
        try {
          decodeCursor(edited, 7);
        } catch (e) {
          if (e instanceof ValidationError) rejected++;
        }
      }
    }
    expect(edits).toBe(28 * 63);
    expect(rejected).toBe(edits);
  });

  it('rejects garbage, padding and the wrong length', () => {
    for (const raw of ['', 'x', 'not a cursor', encodeCursor(7, 42) + 'A', encodeCursor(7, 42) + '=']) {
      expect(() => decodeCursor(raw, 7)).toThrow(ValidationError);
    }
  });
});
