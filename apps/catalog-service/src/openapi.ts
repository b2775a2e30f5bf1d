import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { EXTRA_MODELS } from './controllers/api-docs';

/** The v1 contract, generated from the DTOs and decorators (committed as contracts/openapi-v1.json). */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Catalog API')
    .setDescription(
      'Product data for the frontend websites. Reads need no credentials; writes need `Authorization: Bearer <api key>` ' +
        'with the write scope. Every 4xx and 5xx is application/problem+json (RFC 9457).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' })
    .build();
  return SwaggerModule.createDocument(app, config, {
    extraModels: EXTRA_MODELS,
    operationIdFactory: (_c, m) => m,
  });
}
