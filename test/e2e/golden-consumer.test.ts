import { describe, it, before } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ContractValidator,
  GOLDEN_DIR,
  headerMismatches,
  loadScenarios,
  mismatches,
  Scenario,
  Step,
  substitute,
} from '../support/golden';
import { freshIds, stackEnv } from '../support/stack';

/**
 * Replays test/golden/v1 against every service node of the running stack and checks each response twice:
 * against the recording (what frontends were seen to get) and against the committed contract.
 * GOLDEN_RECORD=1 rewrites the expected responses from what the service answers now: review the diff.
 */
const RECORD = process.env.GOLDEN_RECORD === '1';
const RECORDED_HEADERS = [
  'content-type',
  'cache-control',
  'etag',
  'xkey',
  'x-catalog-tier',
  'location',
  'www-authenticate',
];

type Vars = Record<string, string | number>;

function freshVars(scenario: Scenario): Vars {
  const vars: Vars = {};
  for (const [name, kind] of Object.entries(scenario.vars ?? {})) {
    const id = freshIds(1)[0];
    vars[name] = kind === 'id' ? id : `G-${id}`;
  }
  return vars;
}

async function send(base: string, step: Step, vars: Vars) {
  const req = substitute(step.request, vars) as Step['request'];
  const res = await fetch(base + req.path, {
    method: req.method,
    headers: req.headers,
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
  });
  return { url: base + req.path, method: req.method, res, text: await res.text() };
}

function capture(step: Step, res: Response, body: unknown, vars: Vars): void {
  for (const [name, from] of Object.entries(step.capture ?? {})) {
    const [kind, key] = from.split(':');
    const value =
      kind === 'header'
        ? res.headers.get(key)
        : key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], body);
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new Error(`${step.name}: nothing to capture at ${from}`);
    vars[name] = value;
  }
}

/** The recording of one response: volatile values become placeholders, run-specific ones variables. */
function record(status: number, headers: Headers, body: unknown, vars: Vars): Step['response'] {
  const names = Object.entries(vars).sort(([, a], [, b]) => String(b).length - String(a).length);
  const generalize = (v: unknown, key?: string): unknown => {
    if (key === 'updatedAt') return '<date-time>';
    if (key === 'requestId') return '<request-id>';
    // Human-readable text: frontends branch on status, type and invalid, never on the wording.
    if (key === 'detail' || key === 'errors') return '<any>';
    const exact = names.find(([, value]) => value === v);
    if (exact) return `\${${exact[0]}}`;
    if (typeof v === 'string')
      return names.reduce((s, [n, value]) => s.split(String(value)).join(`\${${n}}`), v);
    if (Array.isArray(v)) return v.map((x) => generalize(x));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, generalize(x, k)]));
    return v;
  };
  const recorded: Record<string, string> = {};
  for (const name of RECORDED_HEADERS) {
    const value = headers.get(name);
    if (value === null) continue;
    const general = generalize(value) as string;
    recorded[name] =
      name === 'x-catalog-tier' ? '<tier>' : name === 'etag' && general === value ? '<etag>' : general;
  }
  return { status, headers: recorded, ...(body === undefined ? {} : { body: generalize(body) }) };
}

describe('golden v1 consumers: recorded requests replayed against the service nodes', () => {
  const ports = stackEnv().SERVICE_PORTS.split(',');
  let contract: ContractValidator;

  before(async () => {
    contract = await ContractValidator.load();
  });

  for (const { file, scenario } of loadScenarios()) {
    it(`${file}: ${scenario.description}`, async () => {
      // Each node gets the whole scenario with its own fresh ids: every node must keep the promise.
      for (const port of RECORD ? ports.slice(0, 1) : ports) {
        const vars = freshVars(scenario);
        for (const step of scenario.steps) {
          const { url, method, res, text } = await send(`http://127.0.0.1:${port}`, step, vars);
          const body: unknown = text ? JSON.parse(text) : undefined;
          const problems = contract.check(method, url, res.status, res.headers, text);
          if (RECORD) step.response = record(res.status, res.headers, body, vars);
          else {
            const want = substitute(step.response, vars) as Step['response'];
            if (res.status !== want.status)
              problems.push(`status: expected ${want.status}, got ${res.status}`);
            problems.push(...headerMismatches(want.headers ?? {}, res.headers));
            if (want.body !== undefined || body !== undefined) problems.push(...mismatches(want.body, body));
          }
          expect({ node: port, step: step.name, problems }).toEqual({
            node: port,
            step: step.name,
            problems: [],
          });
          capture(step, res, body, vars);
        }
      }
      if (RECORD) fs.writeFileSync(path.join(GOLDEN_DIR, file), JSON.stringify(scenario, null, 2) + '\n');
    });
  }
});
