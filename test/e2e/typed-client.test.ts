import { describe, it } from 'node:test';
import { expect } from 'expect';
import createClient from 'openapi-fetch';
import type { paths } from '../typed-client/catalog-api';
import { edge } from '../support/edge';
import { freshIds, WRITE_KEY } from '../support/stack';

/**
 * A frontend's view: a client generated from contracts/openapi-v1.json by openapi-typescript (npm run
 * contract:client), used through openapi-fetch, compiled with the project's strict tsconfig and run against
 * the stack through the front.
 */
describe('typed client generated from the contract', () => {
  const client = createClient<paths>({ baseUrl: edge().front });
  const writer = createClient<paths>({
    baseUrl: edge().front,
    headers: { authorization: `Bearer ${WRITE_KEY}` },
  });
  const [id] = freshIds(1);

  it('reads a list: ids is a comma-separated string in the types', async () => {
    const { data, response } = await client.GET('/v1/products', {
      params: { query: { ids: '1,2,4000000000' } },
    });
    expect(response.status).toBe(200);
    expect(data!.data.map((p) => p.id)).toEqual([1, 2]);
    expect(data!.missing).toEqual([4000000000]);
  });

  it('creates, reads back and deletes a product with a write key', async () => {
    const put = await writer.PUT('/v1/products/{id}', {
      params: { path: { id } },
      body: { sku: `TYPED-${id}`, status: 'active', name: { en: 'Typed client', 'de-DE': 'Typisiert' } },
    });
    expect(put.response.status).toBe(201);
    expect(put.data!.version).toBe(1);
    const got = await client.GET('/v1/products/{id}', { params: { path: { id } } });
    expect(got.data!.name.en).toBe('Typed client');
    const del = await writer.DELETE('/v1/products/{id}', { params: { path: { id } } });
    expect(del.response.status).toBe(204);
  });

  it('gets errors as typed problems', async () => {
    const { error, response } = await client.GET('/v1/products/{id}', { params: { path: { id: 0 } } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(error!.status).toBe(400);
    expect(error!.detail).toMatch(/id must be an integer/);
  });

  it('does not compile the calls the server would refuse', () => {
    // Type-level checks, never run: tsc fails the build if any of these compiles (issue 13, finding 6).
    const ids = [1, 2, 3];
    const never = () => [
      // @ts-expect-error ids is one comma-separated string, not an array (ids=1&ids=2 is a 400)
      client.GET('/v1/products', { params: { query: { ids } } }),
      // @ts-expect-error the path id is an integer
      client.GET('/v1/products/{id}', { params: { path: { id: 'abc' } } }),
      writer.PUT('/v1/products/{id}', {
        params: { path: { id } },
        body: {
          sku: 'A',
          status: 'active',
          name: { en: 'x' },
          // @ts-expect-error unknown fields are refused
          price: 1,
        },
      }),
    ];
    expect(typeof never).toBe('function');
  });
});
