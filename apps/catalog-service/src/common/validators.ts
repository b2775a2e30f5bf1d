import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

export const LOCALE = /^[a-z]{2,3}(-[A-Z]{2})?$/;
export const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,63}$/;
export const MAX_LOCALES = 30;
export const MAX_ATTRIBUTES = 50;
export const MAX_ATTRIBUTE_STRING = 500;

/**
 * Length in Unicode code points, as JSON Schema's maxLength counts (and as a person counts "characters"):
 * a string of 200 emoji is 200 characters, not 400 UTF-16 units. Found by the contract fuzz.
 */
export function charCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A map of locale code (en, en-GB) to a non-empty string of at most maxLength characters. */
export function IsLocaleMap(
  opts: { maxLength: number; maxEntries?: number },
  validationOptions?: ValidationOptions,
) {
  const maxEntries = opts.maxEntries ?? MAX_LOCALES;
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isLocaleMap',
      target: object.constructor,
      propertyName,
      options: validationOptions,
      validator: {
        validate(value: unknown) {
          if (!isPlainObject(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length >= 1 &&
            entries.length <= maxEntries &&
            entries.every(
              ([k, v]) =>
                LOCALE.test(k) && typeof v === 'string' && v.length >= 1 && charCount(v) <= opts.maxLength,
            )
          );
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} must be an object of 1..${maxEntries} locale codes (like "en" or "de-DE") to non-empty strings of at most ${opts.maxLength} characters`;
        },
      },
    });
}

/** Attribute map: snake_case keys to a string (<= 500 chars), a finite number or a boolean. */
export function IsAttributeMap(validationOptions?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isAttributeMap',
      target: object.constructor,
      propertyName,
      options: validationOptions,
      validator: {
        validate(value: unknown) {
          if (!isPlainObject(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= MAX_ATTRIBUTES &&
            entries.every(
              ([k, v]) =>
                ATTRIBUTE_KEY.test(k) &&
                ((typeof v === 'string' && charCount(v) <= MAX_ATTRIBUTE_STRING) ||
                  (typeof v === 'number' && Number.isFinite(v)) ||
                  typeof v === 'boolean'),
            )
          );
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} must be an object of at most ${MAX_ATTRIBUTES} snake_case keys to strings (<= ${MAX_ATTRIBUTE_STRING} characters), numbers or booleans`;
        },
      },
    });
}
