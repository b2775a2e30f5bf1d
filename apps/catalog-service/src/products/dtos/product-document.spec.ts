import { describe, it } from 'node:test';
import { expect } from 'expect';
import { versionOf } from '@catalog/record-types/record-document';
import { serializeProduct } from './product-document';

describe('product document head', () => {
  it('reads the version off a serialised document without parsing it', () => {
    const doc = serializeProduct(9007199254740991, 1234, new Date(0), {
      sku: 'A',
      status: 'active',
      name: { en: 'x' },
    });
    expect(versionOf(Buffer.from(doc))).toBe(1234);
  });

  it('answers -1 for anything that does not start with our head', () => {
    expect(versionOf(Buffer.from('{"id":1,"sku":"x"}'))).toBe(-1);
    expect(versionOf(Buffer.from('!3'))).toBe(-1);
  });
});
