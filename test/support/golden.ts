import * as fs from 'node:fs';
import * as path from 'node:path';
import addFormats from 'ajv-formats';
import OpenAPIBackend from 'openapi-backend';
import { ROOT } from './stack';

/**
 * Golden consumer tests: recorded v1 exchanges as the frontends make them (test/golden/v1/*.json),
 * replayed against running service nodes. A scenario is a list of steps; each step's expected response
 * lists the status, the headers a frontend relies on and the body, with placeholders for what changes
 * from run to run:
 *   "<date-time>"  an RFC 3339 timestamp        "<etag>"        a quoted strong validator
 *   "<request-id>" a non-empty string           "<tier>"        redis or mysql
 *   "<any>"        present, any value           "<absent>"      (headers) must not be sent
 * and variables: "${id1}" (the whole string) is the variable's value with its type, "x-${id1}" interpolates.
 * Variables are fresh ids allocated per run (`vars`) or values captured from earlier responses (`capture`).
 */
export interface Scenario {
  description: string;
  /** name -> "id" (a fresh product id) or "sku" (a fresh sku) */
  vars?: Record<string, 'id' | 'sku'>;
  steps: Step[];
}

export interface Step {
  name: string;
  request: { method: string; path: string; headers?: Record<string, string>; body?: unknown };
  response: { status: number; headers?: Record<string, string>; body?: unknown };
  /** var name -> "header:<name>" or "body:<dot.path>" */
  capture?: Record<string, string>;
}

export const GOLDEN_DIR = path.join(ROOT, 'test/golden/v1');
export const CONTRACT = path.join(ROOT, 'contracts/openapi-v1.json');

export function loadScenarios(): Array<{ file: string; scenario: Scenario }> {
  return fs
    .readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      file: f,
      scenario: JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, f), 'utf8')) as Scenario,
    }));
}

type Vars = Record<string, string | number>;

/** Replaces "${name}" (typed) and "...${name}..." (string) throughout a JSON value. */
export function substitute(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{(\w+)\}$/.exec(value);
    if (whole && whole[1] in vars) return vars[whole[1]];
    return value.replace(/\$\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

const PLACEHOLDERS: Record<string, (v: unknown) => boolean> = {
  '<any>': (v) => v !== undefined,
  '<date-time>': (v) =>
    typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v),
  '<etag>': (v) => typeof v === 'string' && /^"[!#-~]+"$/.test(v),
  '<request-id>': (v) => typeof v === 'string' && v.length > 0,
  '<tier>': (v) => v === 'redis' || v === 'mysql',
};

/** Differences between an expected value (with placeholders) and the actual one, as readable lines. */
export function mismatches(expected: unknown, actual: unknown, at = 'body'): string[] {
  if (typeof expected === 'string' && expected in PLACEHOLDERS) {
    return PLACEHOLDERS[expected](actual)
      ? []
      : [`${at}: expected ${expected}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${at}: expected ${expected.length} items, got ${JSON.stringify(actual)?.slice(0, 200)}`];
    }
    return expected.flatMap((e, i) => mismatches(e, actual[i], `${at}[${i}]`));
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${at}: expected an object, got ${JSON.stringify(actual)?.slice(0, 200)}`];
    }
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const extra = Object.keys(a).filter((k) => !(k in e));
    return [
      ...Object.keys(e).flatMap((k) => mismatches(e[k], a[k], `${at}.${k}`)),
      ...extra.map((k) => `${at}.${k}: not in the recording (got ${JSON.stringify(a[k])?.slice(0, 80)})`),
    ];
  }
  return expected === actual
    ? []
    : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

export function headerMismatches(expected: Record<string, string>, headers: Headers): string[] {
  return Object.entries(expected).flatMap(([name, want]) => {
    const got = headers.get(name);
    if (want === '<absent>') return got === null ? [] : [`header ${name}: expected none, got ${got}`];
    return mismatches(want, got ?? undefined, `header ${name}`);
  });
}

/**
 * Every response checked against the committed contract with openapi-backend (ajv underneath, OpenAPI
 * 3.0 nullable and formats): the operation must exist, the status and media type must be documented,
 * the body must match the schema and documented headers their schemas.
 */
export class ContractValidator {
  private constructor(
    private readonly api: OpenAPIBackend,
    private readonly doc: OpenApiDoc,
  ) {}

  static async load(): Promise<ContractValidator> {
    const doc = JSON.parse(fs.readFileSync(CONTRACT, 'utf8')) as OpenApiDoc;
    // openapi-backend validates application/json bodies only: hand it the problem+json schemas under that
    // key as well (in its own copy). The real media type is checked against the contract separately.
    const forValidator = structuredClone(doc);
    for (const item of Object.values(forValidator.paths)) {
      for (const op of Object.values(item)) {
        for (const res of Object.values(op.responses ?? {})) {
          const problem = res.content?.['application/problem+json'];
          if (problem && !res.content!['application/json']) res.content!['application/json'] = problem;
        }
      }
    }
    const api = new OpenAPIBackend({
      definition: forValidator as never,
      strict: true,
      // Formats (date-time, uri) are part of the promise: without ajv-formats they would be ignored.
      customizeAjv: (ajv) => {
        addFormats(ajv);
        return ajv;
      },
    });
    await api.init();
    return new ContractValidator(api, doc);
  }

  check(method: string, url: string, status: number, headers: Headers, text: string): string[] {
    const u = new URL(url);
    const op = this.api.matchOperation({ method, path: u.pathname, query: u.search.slice(1), headers: {} });
    if (!op) return [`${method} ${u.pathname}: no such operation in the contract`];
    const documented = this.doc.paths[op.path]?.[op.method]?.responses?.[String(status)];
    if (!documented) return [`${op.operationId}: status ${status} is not in the contract`];
    const problems: string[] = [];
    const type = headers.get('content-type')?.split(';')[0].trim();
    if (text.length > 0) {
      if (!type || !documented.content?.[type]) {
        problems.push(`${op.operationId} ${status}: content type ${type} is not in the contract`);
      } else {
        const res = this.api.validator.validateResponse(JSON.parse(text), op, status);
        for (const e of res.errors ?? []) {
          problems.push(
            `${op.operationId} ${status} body${e.instancePath}: ${e.message ?? ''} ${JSON.stringify(e.params)}`,
          );
        }
      }
    } else if (documented.content && status !== 304) {
      problems.push(`${op.operationId} ${status}: empty body, the contract documents one`);
    }
    const plain: Record<string, string> = {};
    headers.forEach((v, k) => (plain[k] = v));
    const h = this.api.validator.validateResponseHeaders(plain, op, { statusCode: status });
    for (const e of h.errors ?? [])
      problems.push(`${op.operationId} ${status} header${e.instancePath}: ${e.message ?? ''}`);
    return problems;
  }
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, unknown>; headers?: object }> }>
  >;
}
