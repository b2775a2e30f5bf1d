import { describe, it } from 'node:test';
import { expect } from 'expect';
import { edge } from '../support/edge';
import { RawResponse, rawRequest } from '../fuzz/raw-http';

/**
 * Requests HAProxy 2.6's HTTP parser used to refuse with its built-in text/html 400 (the fuzz's named gap):
 * bytes outside RFC 3986 in the request line and header names that are not tokens. The front lets them
 * past the parser (accept-invalid-http-request) and refuses them itself, with problem+json, before
 * anything reaches a node (infra/haproxy/front.cfg.tmpl, docs/edge.md).
 */
const e = edge();
const send = (head: string) =>
  rawRequest(e.frontPort, Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, 'latin1'));

function expectProblem400(r: RawResponse): void {
  expect({ status: r.status, type: r.headers['content-type'] }).toEqual({
    status: 400,
    type: 'application/problem+json',
  });
  expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({
    status: 400,
    type: 'https://catalog.example.com/problems/validation',
  });
  expect(r.headers['cache-control']).toBe('no-store');
}

describe('edge: what the HTTP parser refused is a problem+json 400 (issue 13, finding 7)', () => {
  it('answers a raw non-ASCII byte in the path or the query with problem+json', async () => {
    expectProblem400(await send('GET /v1/products/\xe9 HTTP/1.1\r\nHost: x'));
    expectProblem400(await send('GET /v1/products?ids=1\xe9 HTTP/1.1\r\nHost: x'));
    expectProblem400(await send('GET /\xff\xfe HTTP/1.1\r\nHost: x'));
  });

  it('answers characters a URL may not have, and a fragment, with problem+json', async () => {
    for (const target of ['/v1/products/{1}', '/v1/products?ids=1|2', '/v1/products/5#x', '/v1/"5"', '/v1/^'])
      expectProblem400(await send(`GET ${target} HTTP/1.1\r\nHost: x`));
  });

  it('answers an encoded slash in the path with problem+json, as the service does (not a 404 of another path)', async () => {
    // Found by npm run fuzz (seed 772783879): decoded, PUT /v1/products/%2F was PUT /v1/products// and a 404.
    expectProblem400(await send('PUT /v1/products/%2F HTTP/1.1\r\nHost: x\r\nContent-Length: 0'));
    expectProblem400(await send('GET /v1/products/1%2f2 HTTP/1.1\r\nHost: x'));
  });

  it('answers a header name that is not a token with problem+json', async () => {
    expectProblem400(await send('GET /v1/products/5 HTTP/1.1\r\nHost: x\r\nBad(Name: 1'));
    expectProblem400(await send('GET /v1/products/5 HTTP/1.1\r\nHost: x\r\nB\xe9d: 1'));
  });

  it('still serves well-formed requests, odd but valid header names included', async () => {
    const ok = await send("GET /v1/products/5 HTTP/1.1\r\nHost: x\r\nX-Odd_Name.1!#$%&'*+^`|~: 1");
    expect(ok.status).toBe(200);
  });

  it('leaves only what the parser cannot frame to its built-in 400 (the named gap: docs/edge.md)', async () => {
    // A control byte in the request line: HAProxy 2.6's H1 layer answers before any rule or errorfile.
    const r = await send('GET /v1/products/\x01 HTTP/1.1\r\nHost: x');
    expect(r.status).toBe(400);
  });
});
