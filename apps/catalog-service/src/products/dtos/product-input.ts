import { parseDto, Parsed } from '@catalog/common/parse-dto';
import { BatchItemDto, ProductInputDto } from './product.dto';

export const parseProductInput = (raw: unknown): Parsed<ProductInputDto> => parseDto(ProductInputDto, raw);
export const parseBatchItem = (raw: unknown): Parsed<BatchItemDto> => parseDto(BatchItemDto, raw);
