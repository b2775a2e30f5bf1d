import { plainToInstance } from 'class-transformer';
import { ValidationError as ClassValidationError, validateSync } from 'class-validator';
import { BatchItemDto, ProductInputDto } from './product.dto';

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

function flatten(errors: ClassValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) =>
      m.startsWith('property ') ? `${path}: unknown field` : `${path}: ${m}`,
    );
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

function parse<T extends object>(cls: new () => T, raw: unknown): Parsed<T> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: ['body must be a JSON object'] };
  }
  const instance = plainToInstance(cls, raw);
  const errors = validateSync(instance, OPTIONS);
  return errors.length === 0 ? { ok: true, value: instance } : { ok: false, errors: flatten(errors) };
}

export const parseProductInput = (raw: unknown): Parsed<ProductInputDto> => parse(ProductInputDto, raw);
export const parseBatchItem = (raw: unknown): Parsed<BatchItemDto> => parse(BatchItemDto, raw);
