import { createHash } from 'node:crypto';
import { ValidationError } from '@app/errors';

const VERSION = 1;
const BODY = 1 + 8 + 8;
const CHECK = 4;
/** base64url of 21 bytes, no padding. */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{28}$';

function check(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest().subarray(0, CHECK);
}

/**
 * The walk's position: a version byte, the category and the last product id returned, and a check of
 * those bytes, as base64url. Opaque to clients: the format may change (a new version byte) without
 * breaking a walk that is under way, since old versions stay readable for as long as they are issued.
 */
export function encodeCursor(categoryId: number, lastProductId: number): string {
  const body = Buffer.alloc(BODY);
  body.writeUInt8(VERSION, 0);
  body.writeBigUInt64BE(BigInt(categoryId), 1);
  body.writeBigUInt64BE(BigInt(lastProductId), 9);
  return Buffer.concat([body, check(body)]).toString('base64url');
}

/**
 * The last product id a cursor names. A cursor that is malformed, edited, of an unknown version or issued
 * for another category is a 400: it would otherwise start the walk at an arbitrary place.
 */
export function decodeCursor(raw: string, categoryId: number): number {
  const bad = (why: string) =>
    new ValidationError(`cursor is not one this endpoint issued (${why}); start again without it`, {
      invalid: [raw.length > 32 ? raw.slice(0, 32) + '…' : raw],
    });
  if (!new RegExp(CURSOR_PATTERN).test(raw)) throw bad('malformed');
  const bytes = Buffer.from(raw, 'base64url');
  const body = bytes.subarray(0, BODY);
  if (!check(body).equals(bytes.subarray(BODY))) throw bad('altered');
  if (body.readUInt8(0) !== VERSION) throw bad('unknown version');
  if (body.readBigUInt64BE(1) !== BigInt(categoryId)) throw bad('issued for another category');
  const last = body.readBigUInt64BE(9);
  if (last < 1n || last > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('out of range');
  return Number(last);
}
