import { INestApplication, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AppConfig, marketsOf } from '@app/config';
import { canonicalize } from '@app/contract';
import { AppModule } from './app.module';
import { EDGE_PROBLEMS, EXTRA_MODELS, problemResponse } from '@catalog/common/api-docs';
import { CLOSED_INPUT_SCHEMAS } from '@catalog/products/dtos/product.dto';

/**
 * URI versioning: `@Controller({ path, version: '1' })` serves /v1/..., and a v2 controller for the same
 * path lives beside it with `version: '2'` (docs/api-lifecycle.md). The generator and the service share it,
 * so the committed contract and the served one cannot disagree about paths.
 */
export const API_VERSIONING = { type: VersioningType.URI } as const;

/** The published contract of v1, committed and checked by CI (docs/api-lifecycle.md). */
export const CONTRACT_FILE = 'contracts/openapi-v1.json';

/** The v1 contract, generated from the DTOs and decorators, with its keys in canonical order. */
export function buildOpenApi(app: INestApplication, appConfig: Pick<AppConfig, 'MARKETS'>): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Catalog API')
    .setDescription(
      'Product data for the frontend websites. Reads need no credentials; writes need `Authorization: Bearer <api key>` ' +
        'with the write scope. Every 4xx and 5xx is application/problem+json (RFC 9457).',
    )
    .setVersion('1')
    // Relative: the document describes whichever front it is served from.
    .addServer('/', 'The host serving this document')
    // Opaque keys, not JWTs: Nest's bearerFormat default would tell clients otherwise.
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: undefined, description: 'Opaque API key' })
    .build();
  return canonicalize(
    complete(
      SwaggerModule.createDocument(app, config, {
        extraModels: EXTRA_MODELS,
        operationIdFactory: (_c, m) => m,
      }),
      marketsOf(appConfig),
    ),
  );
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * What decorators cannot say once for all operations: an operation without a security requirement is
 * public (`security: []`, not "unspecified"); every operation may get the statuses the edge and the layers
 * below the router answer (EDGE_PROBLEMS); and input schemas refuse unlisted fields, as the validators do.
 */
function complete(doc: OpenAPIObject, markets: ReadonlyMap<string, string[]>): OpenAPIObject {
  doc.info.license = { name: 'Proprietary' };
  // Markets and warehouses are configuration (MARKETS): the document lists the ones this service serves, so
  // a typed client gets their union and a request the contract accepts is never an "unknown market" 400.
  const known: Record<string, string[]> = {
    market: [...markets.keys()],
    warehouse: [...new Set([...markets.values()].flat())].sort(),
  };
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.security ??= [];
      for (const p of op.parameters ?? []) {
        if ('$ref' in p || !known[p.name] || !p.schema || '$ref' in p.schema) continue;
        p.schema = { type: 'string', enum: known[p.name], example: known[p.name][0] };
      }
      for (const [status, description] of EDGE_PROBLEMS) {
        op.responses[status] ??= problemResponse(description);
      }
    }
  }
  const schemas = doc.components?.schemas ?? {};
  for (const name of CLOSED_INPUT_SCHEMAS) {
    const schema = schemas[name];
    if (!schema || '$ref' in schema) throw new Error(`no schema ${name} to close`);
    schema.additionalProperties = false;
  }
  return doc;
}

/**
 * The same document without Redis or MySQL: in preview mode Nest scans modules, controllers and
 * decorators but instantiates no provider, so no connection is opened. Used by `npm run contract:generate`.
 */
export async function generateOpenApi(config: AppConfig): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter(),
    {
      preview: true,
      logger: false,
    },
  );
  app.enableVersioning(API_VERSIONING);
  try {
    return buildOpenApi(app, config);
  } finally {
    await app.close();
  }
}
