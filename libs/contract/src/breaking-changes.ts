/**
 * Compares two OpenAPI 3.0 documents the way a frontend experiences them: what an old client sends must
 * still be accepted, and what it receives must still match what it was promised. Additions pass.
 *
 * Requests (parameters, bodies) may only get looser; responses may only get more specific. Every break
 * names the operation, where in it, and what changed. Why not an npm tool: docs/api-lifecycle.md.
 */

type Json = Record<string, unknown>;
type Direction = 'request' | 'response';

export interface Break {
  /** `GET /v1/products/{id}` */
  operation: string;
  /** `response 200 application/json: data[].updatedAt`, `query parameter ids`, ... */
  where: string;
  message: string;
}

export function formatBreak(b: Break): string {
  return `${b.operation} ${b.where}: ${b.message}`;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
const STRICTER_IF_LOWER = ['maxLength', 'maxItems', 'maximum', 'maxProperties'] as const;
const STRICTER_IF_HIGHER = ['minLength', 'minItems', 'minimum', 'minProperties'] as const;

export function findBreakingChanges(before: unknown, after: unknown): Break[] {
  return new Comparison(asObject(before), asObject(after)).run();
}

class Comparison {
  private readonly breaks: Break[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly before: Json,
    private readonly after: Json,
  ) {}

  run(): Break[] {
    const afterPaths = new Map(
      Object.entries(asObject(this.after.paths)).map(([p, item]) => [templateKey(p), asObject(item)]),
    );
    for (const [path, rawItem] of Object.entries(asObject(this.before.paths))) {
      const item = asObject(rawItem);
      const next = afterPaths.get(templateKey(path));
      for (const method of METHODS) {
        if (!item[method]) continue;
        const operation = `${method.toUpperCase()} ${path}`;
        const op = next?.[method];
        if (!op) {
          this.add(operation, 'operation', next ? 'operation removed' : 'path removed');
          continue;
        }
        this.operation(operation, item, asObject(item[method]), next, asObject(op));
      }
    }
    return this.breaks;
  }

  private add(operation: string, where: string, message: string): void {
    const key = `${operation}\n${where}\n${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.breaks.push({ operation, where, message });
  }

  private operation(name: string, beforeItem: Json, before: Json, afterItem: Json, after: Json): void {
    this.parameters(
      name,
      [...list(beforeItem.parameters), ...list(before.parameters)],
      [...list(afterItem.parameters), ...list(after.parameters)],
    );
    this.requestBody(name, before.requestBody, after.requestBody);
    this.responses(name, asObject(before.responses), asObject(after.responses));
  }

  private parameters(op: string, beforeList: unknown[], afterList: unknown[]): void {
    const key = (p: Json) =>
      `${String(p.in)} ${p.in === 'header' ? String(p.name).toLowerCase() : String(p.name)}`;
    const index = (ps: unknown[], doc: Json) => {
      const m = new Map<string, Json>();
      for (const raw of ps) {
        const p = this.deref(doc, raw);
        if (p.in !== 'path') m.set(key(p), p);
      }
      return m;
    };
    const was = index(beforeList, this.before);
    const now = index(afterList, this.after);
    for (const [k, p] of was) {
      const where = `${String(p.in)} parameter ${String(p.name)}`;
      const q = now.get(k);
      if (!q) {
        this.add(op, where, 'parameter removed (clients that send it would be ignored or rejected)');
        continue;
      }
      if (q.required === true && p.required !== true) this.add(op, where, 'parameter became required');
      this.schema(op, where, 'request', p.schema, q.schema, '');
    }
    for (const [k, q] of now) {
      if (!was.has(k) && q.required === true) {
        this.add(op, `${String(q.in)} parameter ${String(q.name)}`, 'new required parameter');
      }
    }
    // Path parameters: the URL shape is matched by templateKey, so only their schemas can break.
    const pathParams = (ps: unknown[], d: Json) =>
      ps.map((raw) => this.deref(d, raw)).filter((p) => p.in === 'path');
    const afterPath = pathParams(afterList, this.after);
    pathParams(beforeList, this.before).forEach((p, i) => {
      if (afterPath[i])
        this.schema(op, `path parameter ${String(p.name)}`, 'request', p.schema, afterPath[i].schema, '');
    });
  }

  private requestBody(op: string, rawBefore: unknown, rawAfter: unknown): void {
    const before = rawBefore ? this.deref(this.before, rawBefore) : undefined;
    const after = rawAfter ? this.deref(this.after, rawAfter) : undefined;
    if (!after) {
      if (before) this.add(op, 'request body', 'request body removed');
      return;
    }
    if (!before) {
      if (after.required === true) this.add(op, 'request body', 'new required request body');
      return;
    }
    if (after.required === true && before.required !== true) {
      this.add(op, 'request body', 'request body became required');
    }
    const now = asObject(after.content);
    for (const [type, media] of Object.entries(asObject(before.content))) {
      const where = `request body ${type}`;
      if (!now[type]) {
        this.add(op, where, `content type ${type} no longer accepted`);
        continue;
      }
      this.schema(op, where, 'request', asObject(media).schema, asObject(now[type]).schema, '');
    }
  }

  private responses(op: string, before: Json, after: Json): void {
    for (const [status, raw] of Object.entries(before)) {
      const where = `response ${status}`;
      if (!after[status]) {
        this.add(op, where, `status ${status} removed`);
        continue;
      }
      const was = this.deref(this.before, raw);
      const now = this.deref(this.after, after[status]);
      const nowContent = asObject(now.content);
      for (const [type, media] of Object.entries(asObject(was.content))) {
        if (!nowContent[type]) {
          this.add(op, where, `content type ${type} removed`);
          continue;
        }
        this.schema(
          op,
          `${where} ${type}`,
          'response',
          asObject(media).schema,
          asObject(nowContent[type]).schema,
          '',
        );
      }
      const nowHeaders = new Map(Object.entries(asObject(now.headers)).map(([k, v]) => [k.toLowerCase(), v]));
      for (const [name, header] of Object.entries(asObject(was.headers))) {
        const next = nowHeaders.get(name.toLowerCase());
        if (!next) this.add(op, `${where} header ${name}`, 'response header removed');
        else
          this.schema(
            op,
            `${where} header ${name}`,
            'response',
            this.deref(this.before, header).schema,
            this.deref(this.after, next).schema,
            '',
          );
      }
    }
    // A new success status changes what an existing call returns; new error statuses only document failures.
    for (const status of Object.keys(after)) {
      if (!before[status] && /^[23]/.test(status)) {
        this.add(
          op,
          `response ${status}`,
          `new success status ${status} (clients expect ${
            Object.keys(before)
              .filter((s) => /^[23]/.test(s))
              .join(', ') || 'none'
          })`,
        );
      }
    }
  }

  /**
   * Request schemas may only accept more; response schemas may only promise more. `field` is the path of
   * the value inside the body (`data[].sku`), empty at the root.
   */
  private schema(
    op: string,
    where: string,
    dir: Direction,
    rawBefore: unknown,
    rawAfter: unknown,
    field: string,
    depth = 0,
  ): void {
    if (rawBefore === undefined || rawAfter === undefined || depth > 32) return;
    const before = this.flatten(this.before, rawBefore);
    const after = this.flatten(this.after, rawAfter);
    const at = field ? `${where}: ${field}` : where;
    const say = (message: string) => this.add(op, at, message);

    const t0 = typeOf(before);
    const t1 = typeOf(after);
    if (t0 && t1 && t0 !== t1 && !(dir === 'request' && t0 === 'integer' && t1 === 'number')) {
      say(`type changed from ${t0} to ${t1}`);
      return;
    }
    if (t0 && !t1 && dir === 'response') say(`type ${t0} no longer promised`);
    if (!t0 && t1 && dir === 'request') say(`now restricted to type ${t1}`);

    const f0 = before.format as string | undefined;
    const f1 = after.format as string | undefined;
    if (f0 !== f1) {
      const looser = dir === 'request' ? f1 === undefined : f0 === undefined;
      if (!looser) say(`format changed from ${f0 ?? 'none'} to ${f1 ?? 'none'}`);
    }

    if (before.nullable !== after.nullable) {
      if (dir === 'response' && after.nullable === true) say('may now be null');
      if (dir === 'request' && before.nullable === true) say('no longer accepts null');
    }

    this.enums(say, dir, before.enum, after.enum);

    if (dir === 'request') {
      for (const k of STRICTER_IF_LOWER) {
        const a = before[k] as number | undefined;
        const b = after[k] as number | undefined;
        if (b !== undefined && (a === undefined || b < a)) say(`${k} lowered from ${a ?? 'none'} to ${b}`);
      }
      for (const k of STRICTER_IF_HIGHER) {
        const a = before[k] as number | undefined;
        const b = after[k] as number | undefined;
        if (b !== undefined && (a === undefined || b > a)) say(`${k} raised from ${a ?? 'none'} to ${b}`);
      }
      if (after.pattern !== undefined && after.pattern !== before.pattern) {
        say(
          `pattern changed from ${JSON.stringify(before.pattern ?? null)} to ${JSON.stringify(after.pattern)}`,
        );
      }
    }

    this.properties(op, where, dir, before, after, field, depth);
    if (before.items !== undefined && after.items !== undefined) {
      this.schema(op, where, dir, before.items, after.items, `${field}[]`, depth + 1);
    }
    const ap0 = before.additionalProperties;
    const ap1 = after.additionalProperties;
    if (isObject(ap0) && isObject(ap1)) this.schema(op, where, dir, ap0, ap1, `${field}{*}`, depth + 1);
    else if (dir === 'request' && ap1 === false && ap0 !== false) say('no longer accepts unlisted fields');
    this.alternatives(op, where, dir, before, after, field, depth);
  }

  private properties(
    op: string,
    where: string,
    dir: Direction,
    before: Json,
    after: Json,
    field: string,
    depth: number,
  ): void {
    const p0 = asObject(before.properties);
    const p1 = asObject(after.properties);
    const r0 = new Set(list(before.required) as string[]);
    const r1 = new Set(list(after.required) as string[]);
    const name = (k: string) => (field ? `${field}.${k}` : k);
    for (const [k, s] of Object.entries(p0)) {
      const at = `${where}: ${name(k)}`;
      if (!(k in p1)) {
        // Our inputs reject unknown fields (forbidNonWhitelisted), so a dropped input field is a 400 too.
        this.add(
          op,
          at,
          dir === 'response'
            ? 'response field removed (or renamed)'
            : 'request field removed (clients sending it get 400)',
        );
        continue;
      }
      if (dir === 'response' && r0.has(k) && !r1.has(k))
        this.add(op, at, 'response field no longer always present');
      if (dir === 'request' && r1.has(k) && !r0.has(k)) this.add(op, at, 'request field became required');
      this.schema(op, where, dir, s, p1[k], name(k), depth + 1);
    }
    if (dir === 'request') {
      for (const k of Object.keys(p1)) {
        if (!(k in p0) && r1.has(k)) this.add(op, `${where}: ${name(k)}`, 'new required request field');
      }
    }
  }

  private enums(say: (m: string) => void, dir: Direction, e0: unknown, e1: unknown): void {
    const before = Array.isArray(e0) ? e0 : undefined;
    const after = Array.isArray(e1) ? e1 : undefined;
    if (!before && !after) return;
    if (!before) {
      if (dir === 'request') say(`now restricted to enum ${JSON.stringify(after)}`);
      return;
    }
    if (!after) {
      if (dir === 'response') say(`enum ${JSON.stringify(before)} no longer promised`);
      return;
    }
    const removed = before.filter((v) => !after.some((w) => JSON.stringify(w) === JSON.stringify(v)));
    const added = after.filter((v) => !before.some((w) => JSON.stringify(w) === JSON.stringify(v)));
    if (removed.length) say(`enum narrowed: ${removed.map((v) => JSON.stringify(v)).join(', ')} removed`);
    if (added.length && dir === 'response') {
      say(
        `enum widened in a response: ${added.map((v) => JSON.stringify(v)).join(', ')} may now be returned`,
      );
    }
  }

  /**
   * oneOf/anyOf: a request must still accept every old alternative; a response may not add new ones.
   * Alternatives are paired by type (or by their whole schema when untyped) and each pair is compared like
   * any schema, so `{type: string}` -> `{type: string, maxLength: 500}` is a tightened request and a more
   * specific response, not a removed and an added alternative.
   */
  private alternatives(
    op: string,
    where: string,
    dir: Direction,
    before: Json,
    after: Json,
    field: string,
    depth: number,
  ): void {
    const say = (m: string) => this.add(op, field ? `${where}: ${field}` : where, m);
    for (const k of ['oneOf', 'anyOf'] as const) {
      const key = (doc: Json, s: unknown) => {
        const f = this.flatten(doc, s);
        return typeof f.type === 'string' ? `type:${f.type}` : JSON.stringify(f);
      };
      const a = new Map(list(before[k]).map((s) => [key(this.before, s), s]));
      const b = new Map(list(after[k]).map((s) => [key(this.after, s), s]));
      if (!a.size || !b.size) continue;
      for (const [name, s] of a) {
        const t = b.get(name);
        if (t !== undefined) this.schema(op, where, dir, s, t, `${field}<${name}>`, depth + 1);
      }
      const missing =
        dir === 'request' ? [...a.keys()].filter((n) => !b.has(n)) : [...b.keys()].filter((n) => !a.has(n));
      if (missing.length) {
        say(
          dir === 'request'
            ? `${k} no longer accepts ${missing.join(', ')}`
            : `${k} may now return ${missing.join(', ')}`,
        );
      }
    }
  }

  /** Follows local $refs (`#/components/...`). */
  private deref(doc: Json, value: unknown, hops = 0): Json {
    const o = asObject(value);
    const ref = o.$ref;
    if (typeof ref !== 'string' || hops > 20) return o;
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
    let target: unknown = doc;
    for (const part of ref.slice(2).split('/')) {
      target = asObject(target)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    return this.deref(doc, target, hops + 1);
  }

  /** $ref followed, allOf merged into one schema (properties and required united). */
  private flatten(doc: Json, value: unknown): Json {
    const s = this.deref(doc, value);
    if (!Array.isArray(s.allOf)) return s;
    const out: Json = { ...s, allOf: undefined };
    const props: Json = { ...asObject(s.properties) };
    const required = new Set(list(s.required) as string[]);
    for (const part of s.allOf) {
      const p = this.flatten(doc, part);
      Object.assign(props, asObject(p.properties));
      for (const r of list(p.required) as string[]) required.add(r);
      for (const [k, v] of Object.entries(p)) if (!(k in out) || out[k] === undefined) out[k] = v;
    }
    if (Object.keys(props).length) out.properties = props;
    if (required.size) out.required = [...required];
    delete out.allOf;
    return out;
  }
}

function typeOf(s: Json): string | undefined {
  if (typeof s.type === 'string') return s.type;
  if (s.properties) return 'object';
  return undefined;
}

/** `/v1/products/{id}` and `/v1/products/{productId}` are the same URL. */
function templateKey(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}');
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObject(v: unknown): Json {
  return isObject(v) ? v : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
