import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';

/**
 * A deprecated DTO field: still present and still valid, marked `deprecated: true` in the schema with the
 * date and the replacement in its description. Response fields have no per-field header; frontends learn
 * of them from the contract and the changelog (docs/api-lifecycle.md).
 */
export function ApiDeprecatedProperty(
  opts: { since: string; sunset?: string; use?: string },
  property: ApiPropertyOptions = {},
) {
  const note =
    `Deprecated since ${opts.since}` +
    (opts.sunset ? `, sunset ${opts.sunset}` : '') +
    (opts.use ? `: use ${opts.use} instead` : '') +
    '.';
  return ApiProperty({
    required: false,
    ...property,
    deprecated: true,
    description: property.description ? `${property.description}. ${note}` : note,
  } as ApiPropertyOptions);
}
