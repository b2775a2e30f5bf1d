import { describe, it } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyAcceptedBreaks } from './accepted-breaks';
import { findBreakingChanges, formatBreak } from './breaking-changes';

type Doc = {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
};

const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nest-cli.json'))) dir = path.dirname(dir);
  return dir;
})();
/** The first published v1 contract: the real thing, so the tests follow its $refs and shapes. */
const RELEASE = JSON.parse(fs.readFileSync(path.join(ROOT, 'contracts/releases/v1.0.0.json'), 'utf8')) as Doc;

function changed(edit: (d: Doc) => void): string[] {
  const after = structuredClone(RELEASE);
  edit(after);
  return findBreakingChanges(RELEASE, after).map(formatBreak);
}

const schemas = (d: Doc) => d.components.schemas;
const params = (d: Doc, p: string, m: string) =>
  d.paths[p][m].parameters as Array<{ name: string; required?: boolean }>;

describe(findBreakingChanges.name, () => {
  it('finds nothing between a contract and itself', () => {
    expect(changed(() => undefined)).toEqual([]);
  });

  it('names a response field removed from a $ref-ed schema, in every operation that returns it', () => {
    const breaks = changed((d) => {
      delete schemas(d).ProductDto.properties.updatedAt;
      schemas(d).ProductDto.required = schemas(d).ProductDto.required!.filter((f) => f !== 'updatedAt');
    });
    expect(breaks).toContain(
      'GET /v1/products/{id} response 200 application/json: updatedAt: response field removed (or renamed)',
    );
    expect(breaks).toContain(
      'GET /v1/products response 200 application/json: data[].updatedAt: response field removed (or renamed)',
    );
  });

  it('treats a renamed response field as a removal', () => {
    const breaks = changed((d) => {
      const p = schemas(d).ProductDto.properties;
      p.stockKeepingUnit = p.sku;
      delete p.sku;
    });
    expect(breaks).toContain(
      'GET /v1/products/{id} response 200 application/json: sku: response field removed (or renamed)',
    );
  });

  it('names a changed type and a changed format', () => {
    const breaks = changed((d) => {
      schemas(d).ProductDto.properties.version = { type: 'string' };
      (schemas(d).ProductDto.properties.updatedAt as { format: string }).format = 'date';
    });
    expect(breaks).toContain(
      'GET /v1/products/{id} response 200 application/json: version: type changed from integer to string',
    );
    expect(breaks).toContain(
      'GET /v1/products/{id} response 200 application/json: updatedAt: format changed from date-time to date',
    );
  });

  it('names a parameter made required and a new required parameter', () => {
    const breaks = changed((d) => {
      params(d, '/v1/products/{id}', 'get').find((p) => p.name === 'If-None-Match')!.required = true;
      params(d, '/v1/products', 'get').push({ name: 'market', in: 'query', required: true } as never);
    });
    expect(breaks).toEqual([
      'GET /v1/products query parameter market: new required parameter',
      'GET /v1/products/{id} header parameter If-None-Match: parameter became required',
    ]);
  });

  it('names a removed path and a removed operation', () => {
    const breaks = changed((d) => {
      delete d.paths['/v1/products/batch'];
      delete d.paths['/v1/products/{id}'].delete;
    });
    expect(breaks).toEqual([
      'POST /v1/products/batch operation: path removed',
      'DELETE /v1/products/{id} operation: operation removed',
    ]);
  });

  it('names a newly required body field and a narrowed request enum', () => {
    const breaks = changed((d) => {
      const input = schemas(d).ProductInputDto;
      input.properties.gtin = { type: 'string' };
      input.required!.push('gtin');
      (input.properties.status as { enum: string[] }).enum = ['active', 'draft'];
    });
    expect(breaks).toEqual([
      'PUT /v1/products/{id} request body application/json: status: enum narrowed: "archived" removed',
      'PUT /v1/products/{id} request body application/json: gtin: new required request field',
    ]);
  });

  it('names a changed status code and a changed content type', () => {
    const breaks = changed((d) => {
      const del = d.paths['/v1/products/{id}'].delete.responses as Record<string, unknown>;
      del['200'] = del['204'];
      delete del['204'];
      const ok = (d.paths['/v1/products/{id}'].get.responses as Record<string, { content: object }>)['200'];
      ok.content = { 'application/vnd.catalog+json': Object.values(ok.content)[0] };
    });
    expect(breaks).toEqual([
      'GET /v1/products/{id} response 200: content type application/json removed',
      'DELETE /v1/products/{id} response 204: status 204 removed',
      'DELETE /v1/products/{id} response 200: new success status 200 (clients expect 204)',
    ]);
  });

  it('passes an added optional field, an added endpoint and a new error status', () => {
    const breaks = changed((d) => {
      schemas(d).ProductInputDto.properties.gtin = { type: 'string', pattern: '^[0-9]{8,14}$' };
      schemas(d).ProductDto.properties.gtin = { type: 'string' };
      d.paths['/v1/products/by-sku'] = {
        get: {
          parameters: [{ name: 'skus', in: 'query', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ProductListDto' } } },
            },
          },
        },
      };
      (d.paths['/v1/products'].get.responses as Record<string, unknown>)['429'] = {
        description: 'slow down',
      };
    });
    expect(breaks).toEqual([]);
  });

  it('lets requests get looser and responses more specific', () => {
    const breaks = changed((d) => {
      const input = schemas(d).ProductInputDto;
      input.required = input.required!.filter((f) => f !== 'status');
      (input.properties.status as { enum: string[] }).enum.push('discontinued');
      (input.properties.brand as { maxLength: number }).maxLength = 200;
      (schemas(d).ProductDto.properties.brand as { nullable?: boolean }).nullable = undefined;
    });
    expect(breaks).toEqual([]);
  });

  it('catches a widened response enum and a response field that may now be null', () => {
    const breaks = changed((d) => {
      (schemas(d).BatchResultDto.properties.result as { enum: string[] }).enum.push('skipped');
      (schemas(d).ProductDto.properties.updatedAt as { nullable?: boolean }).nullable = true;
    });
    expect(breaks).toContain(
      'POST /v1/products/batch response 200 application/json: results[].result: enum widened in a response: "skipped" may now be returned',
    );
    expect(breaks).toContain(
      'GET /v1/products/{id} response 200 application/json: updatedAt: may now be null',
    );
  });
});

describe(applyAcceptedBreaks.name, () => {
  const v2 = { operation: 'GET /v2/products/{id}', where: 'response 200', message: 'status 200 removed' };
  const v1 = { operation: 'GET /v1/products/{id}', where: 'response 200', message: 'status 200 removed' };
  const entry = (operation: string) => ({
    operation,
    change: 'status 200 removed',
    reason: 'v2 preview',
    approvedBy: 'api-owners',
  });

  it('honours an entry for an operation of a major newer than the release', () => {
    const verdict = applyAcceptedBreaks([v2], [entry(v2.operation)], 1);
    expect(verdict.breaks).toEqual([]);
    expect(verdict.accepted).toHaveLength(1);
    expect(verdict.invalid).toEqual([]);
  });

  it('never honours an entry for the released major, and says so', () => {
    const verdict = applyAcceptedBreaks([v1], [entry(v1.operation)], 1);
    expect(verdict.breaks).toEqual([v1]);
    expect(verdict.invalid[0]).toMatch(/only operations of a major version newer than the released v1/);
  });

  it('rejects an entry without a reason or an approver', () => {
    const verdict = applyAcceptedBreaks([v2], [{ ...entry(v2.operation), approvedBy: '' }], 1);
    expect(verdict.breaks).toEqual([v2]);
    expect(verdict.invalid[0]).toMatch(/approvedBy/);
  });

  it('honours a matches-server entry in the released major only with its evidence', () => {
    const fix = { ...entry(v1.operation), kind: 'matches-server' as const };
    expect(
      applyAcceptedBreaks([v1], [{ ...fix, evidence: 'test/medium/bad-input.test.ts' }], 1).breaks,
    ).toEqual([]);
    const without = applyAcceptedBreaks([v1], [fix], 1);
    expect(without.breaks).toEqual([v1]);
    expect(without.invalid[0]).toMatch(/evidence/);
  });
});

describe('alternatives (oneOf)', () => {
  it('compares alternatives of the same type as schemas: tightened in a request, fine in a response', () => {
    const breaks = changed((d) => {
      for (const name of ['ProductInputDto', 'ProductDto']) {
        const attributes = schemas(d)[name].properties.attributes as {
          additionalProperties: { oneOf: Array<Record<string, unknown>> };
        };
        attributes.additionalProperties.oneOf[0] = { type: 'string', maxLength: 500 };
      }
    });
    expect(breaks).toContain(
      'PUT /v1/products/{id} request body application/json: attributes{*}<type:string>: maxLength lowered from none to 500',
    );
    expect(breaks.filter((b) => b.includes('response'))).toEqual([]);
  });
});
