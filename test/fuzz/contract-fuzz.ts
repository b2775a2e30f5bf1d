import fc from 'fast-check';
import { buildRequest, problemDefect, rawRequest, RawResponse } from './raw-http';
import { Doc, Schema, valid } from './schema-arbitrary';

type Operation = {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
  security?: unknown[];
};
export type Contract = Doc & { paths: Record<string, Record<string, Operation>> };

interface FuzzRequest {
  /** `PUT /v1/products/{id}`, or `(no operation)` for a method the path does not take. */
  operation: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: string;
  /** Every part drawn from the contract's valid side: the server must not answer 400. */
  positive: boolean;
}

export interface FuzzReport {
  requests: number;
  positives: number;
  statuses: Record<string, number>;
  failures: string[];
}

export interface FuzzOptions {
  port: number;
  seed: number;
  numRuns: number;
  writeKey: string;
  /** Ids written by the fuzz: a range of its own, so it never touches seeded or other tests' data. */
  idBase: number;
}

const METHODS = ['get', 'put', 'post', 'delete'] as const;
const JUNK_SEGMENTS = [
  '%zz',
  '%',
  '%00',
  '..',
  '%2e%2e',
  '-1',
  '0',
  '1.5',
  '1e3',
  '+7',
  '007',
  '9007199254740992',
  'é',
  '%C3%A9',
  'a'.repeat(300),
  '%2F',
  '%20',
];
const ODD_HEADERS: Array<[string, string]> = [
  ['Range', 'bytes=5-2'],
  ['Range', 'bytes=0-10'],
  ['Expect', '100-continue'],
  ['Expect', 'teapot'],
  ['If-None-Match', '"nope"'],
  ['If-None-Match', '*'],
  ['If-Match', 'W/"x"'],
  ['Accept', 'text/html'],
  ['Accept-Encoding', 'gzip, br'],
  ['Authorization', 'Bearer not-a-key'],
  ['Authorization', 'Basic Zm9vOmJhcg=='],
  ['X-Request-Id', '../../etc/passwd'],
  ['X-HTTP-Method-Override', 'DELETE'],
  ['Content-Encoding', 'gzip'],
  ['X-Forwarded-For', '1.2.3.4, 5.6.7.8'],
  ['Cookie', 'a=b'],
];
const PROBLEM = 'application/problem+json';

/** Draws requests for every operation of the contract, a mix of valid ones and broken ones. */
export function requests(contract: Contract, opts: FuzzOptions): fc.Arbitrary<FuzzRequest> {
  const ops: Array<fc.Arbitrary<FuzzRequest>> = [];
  for (const [path, item] of Object.entries(contract.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push(operationRequest(contract, path, method, op, opts));
    }
    const others = ['PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'].concat(
      METHODS.filter((m) => !item[m]).map((m) => m.toUpperCase()),
    );
    ops.push(
      fc.constantFrom(...others).map((method) => ({
        operation: '(no operation)',
        method,
        target: path.replace('{id}', '1'),
        headers: {},
        positive: false,
      })),
    );
  }
  return fc.oneof(...ops);
}

function operationRequest(
  contract: Contract,
  path: string,
  method: string,
  op: Operation,
  opts: FuzzOptions,
): fc.Arbitrary<FuzzRequest> {
  const params = op.parameters ?? [];
  const pathParam = params.find((p) => p.in === 'path' && p.name === 'id');
  // The other path parameters (a market, a warehouse) take the values their schema lists.
  const otherPath = params.filter((p) => p.in === 'path' && p.name !== 'id');
  const fixed: fc.Arbitrary<Array<[string, string]>> = fc.tuple(
    ...otherPath.map((p) => {
      const values = (p.schema as { enum?: string[] } | undefined)?.enum;
      if (!values?.length)
        throw new Error(`${method} ${path}: path parameter ${p.name} has no enum to fuzz from`);
      return fc.constantFrom(...values).map((v): [string, string] => [p.name, v]);
    }),
  );
  const queryParams = params.filter((p) => p.in === 'query');
  const writes = method !== 'get';
  const ownId = fc.integer({ min: opts.idBase, max: opts.idBase + 999 });

  const segment: fc.Arbitrary<[string, boolean]> = pathParam
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: (writes ? ownId : fc.integer({ min: 1, max: 1200 })).map((n): [string, boolean] => [
            String(n),
            true,
          ]),
        },
        { weight: 1, arbitrary: fc.constantFrom(...JUNK_SEGMENTS).map((s): [string, boolean] => [s, false]) },
        {
          weight: 1,
          arbitrary: fc
            .string({ minLength: 1, maxLength: 30 })
            .map((s): [string, boolean] => [encodeURIComponent(s), false]),
        },
      )
    : fc.constant(['', true]);

  const query: fc.Arbitrary<[string, boolean]> = fc
    .tuple(
      ...queryParams.map((p) =>
        fc.oneof(
          {
            weight: 6,
            // A value only the server issues (`x-opaque`, like a walk's cursor) may match the schema and
            // still be refused: drawn from the schema, it is not one the contract promises to take.
            arbitrary: valid(contract, p.schema ?? {}).map((v): [string, boolean] => [
              `${p.name}=${String(v)}`,
              !(p.schema as { 'x-opaque'?: boolean } | undefined)?.['x-opaque'],
            ]),
          },
          {
            weight: 1,
            arbitrary: fc
              .string({ maxLength: 40 })
              .map((s): [string, boolean] => [`${p.name}=${encodeURIComponent(s)}`, false]),
          },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom(`${p.name}=`, `${p.name}=1&${p.name}=2`, `${p.name}=%zz`, `${p.name}[]=1`, p.name)
              .map((s): [string, boolean] => [s, false]),
          },
        ),
      ),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant<[string, boolean]>(['', true]) },
        {
          weight: 1,
          arbitrary: fc.constantFrom<[string, boolean]>(
            ['x=1', false],
            ['utm_source=fuzz', false],
            ['t=1', false],
          ),
        },
      ),
    )
    .map((parts) => {
      const used = parts.filter(([s]) => s !== '');
      return [used.map(([s]) => s).join('&'), used.every(([, ok]) => ok)];
    });

  const schema = op.requestBody?.content['application/json']?.schema;
  const body: fc.Arbitrary<[string | undefined, boolean]> = schema
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: validBody(contract, schema, ownId).map((b): [string, boolean] => [
            JSON.stringify(b),
            true,
          ]),
        },
        {
          weight: 1,
          arbitrary: validBody(contract, schema, ownId)
            .chain((b) => mutate(b))
            .map((b): [string, boolean] => [JSON.stringify(b), false]),
        },
        {
          weight: 1,
          arbitrary: fc.jsonValue().map((b): [string, boolean] => [JSON.stringify(b) ?? 'null', false]),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(
              '',
              '{',
              '{"sku":',
              '[]',
              'null',
              '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
              '\u0000',
            )
            .map((b): [string, boolean] => [b, false]),
        },
      )
    : fc.constant([undefined, true]);

  const headers: fc.Arbitrary<[Record<string, string>, boolean]> = fc
    .tuple(
      fc.subarray(ODD_HEADERS, { maxLength: 2 }),
      fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=latin1',
            'multipart/form-data',
          ),
        },
      ),
    )
    .map(([odd, keyed, type]): [Record<string, string>, boolean] => {
      const h: Record<string, string> = {};
      if (op.security?.length && keyed) h.Authorization = `Bearer ${opts.writeKey}`;
      if (schema) h['Content-Type'] = type;
      for (const [k, v] of odd) h[k] = v;
      const harmless = odd.every(
        ([k, v]) =>
          k === 'Accept-Encoding' ||
          k === 'Cookie' ||
          k === 'X-Forwarded-For' ||
          (k === 'Expect' && v === '100-continue'),
      );
      return [h, harmless && (!op.security?.length || keyed) && (!schema || type === 'application/json')];
    });

  return fc
    .tuple(segment, query, body, headers, fixed)
    .map(([[seg, segOk], [q, qOk], [b, bOk], [h, hOk], f]) => ({
      operation: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      target:
        f.reduce((t, [name, v]) => t.replace(`{${name}}`, encodeURIComponent(v)), path.replace('{id}', seg)) +
        (q ? `?${q}` : ''),
      headers: h,
      body: b,
      positive: segOk && qOk && bOk && hOk,
    }));
}

/** A valid body whose ids (the batch items' ids) are in the fuzz's own range. */
function validBody(contract: Contract, schema: Schema, ownId: fc.Arbitrary<number>): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid(contract, schema), fc.array(ownId, { minLength: 1000, maxLength: 1000 }))
    .map(([b, ids]) => {
      const items = (b as { items?: Array<{ id: number }> }).items;
      // Distinct ids and skus: a repeat is rejected by design (the batch says so per item), not a contract gap.
      if (Array.isArray(items)) {
        const seen = new Set<number>();
        const skus = new Set<string>();
        (b as { items: unknown[] }).items = items.filter((item, i) => {
          item.id = ids[i];
          const sku = (item as unknown as { sku: string }).sku;
          if (seen.has(item.id) || skus.has(sku)) return false;
          seen.add(item.id);
          skus.add(sku);
          return true;
        });
      }
      return b;
    });
}

/** One field replaced by an arbitrary JSON value, or an unknown field added. */
function mutate(body: unknown): fc.Arbitrary<unknown> {
  if (typeof body !== 'object' || body === null) return fc.constant(body);
  const keys = Object.keys(body);
  return fc
    .tuple(fc.constantFrom(...keys, '__unknown'), fc.jsonValue())
    .map(([k, v]) => ({ ...body, [k]: v }));
}

/** What is wrong with the answer, or undefined. */
export function judge(contract: Contract, req: FuzzRequest, res: RawResponse): string | undefined {
  if (res.status >= 500) return `${res.status} (a 5xx)`;
  if (res.status >= 400) {
    const defect = problemDefect(res);
    if (defect) return `${res.status} is not problem+json: ${defect}`;
  }
  if (req.positive && res.status === 400)
    return `400 for a request the contract accepts: ${res.body.toString('utf8').slice(0, 600)}`;
  if (req.operation === '(no operation)') {
    // It may still route (PUT /v1/products/batch is PUT /v1/products/{id} with id "batch"): any 4xx problem.
    return res.status >= 400 && res.status < 500
      ? undefined
      : `${res.status} for a method the path does not take`;
  }
  const [method, path] = req.operation.split(' ');
  const op = contract.paths[path][method.toLowerCase()];
  const documented = op.responses[String(res.status)] ?? op.responses.default;
  if (!documented) return `status ${res.status} is not in the contract`;
  const type = (res.headers['content-type'] ?? '').split(';')[0].trim();
  const types = Object.keys(documented.content ?? {});
  if (types.length === 0) {
    if (res.body.length > 0 && req.method !== 'HEAD')
      return `${res.status} has a body the contract does not describe (${type})`;
  } else if (!types.includes(type)) {
    return `${res.status} answered ${JSON.stringify(type)}, the contract says ${types.join(' or ')}`;
  }
  if (res.status >= 400 && !types.includes(PROBLEM))
    return `${res.status} is documented without problem+json`;
  return undefined;
}

/** Runs the fuzz; the report lists every failing request (method, target, status, why). */
export async function fuzz(contract: Contract, opts: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { requests: 0, positives: 0, statuses: {}, failures: [] };
  const samples = fc.sample(requests(contract, opts), { seed: opts.seed, numRuns: opts.numRuns });
  for (const req of samples) {
    const raw = buildRequest(req.method, req.target, req.headers, req.body);
    let res: RawResponse;
    try {
      res = await rawRequest(opts.port, raw);
    } catch (e) {
      // A body over the service's limit (256 KiB) gets its 413 while the client is still sending, and the
      // connection is closed: the kernel may then drop the 413 before we read it. Counted, not a failure.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'EPIPE' || code === 'ECONNRESET') && Buffer.byteLength(req.body ?? '') > 256 * 1024) {
        report.statuses['reset after a body over the limit'] =
          (report.statuses['reset after a body over the limit'] ?? 0) + 1;
        report.requests++;
        continue;
      }
      report.failures.push(`${req.method} ${req.target.slice(0, 120)}: no answer (${(e as Error).message})`);
      continue;
    }
    report.requests++;
    if (req.positive) report.positives++;
    report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
    const why = judge(contract, req, res);
    if (why) {
      const headers = Object.entries(req.headers)
        .map(([k, v]) => `${k}: ${v.slice(0, 40)}`)
        .join('; ');
      report.failures.push(
        `${req.method} ${req.target.slice(0, 120)} [${headers}] ${req.body?.slice(0, 200) ?? ''} -> ${why}`,
      );
    }
  }
  return report;
}
