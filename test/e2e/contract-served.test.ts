import { describe, it } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import { canonicalJson } from '@app/contract';
import { CONTRACT } from '../support/golden';
import { stackEnv } from '../support/stack';

describe('GET /v1/openapi.json', () => {
  it('serves exactly the committed contract on every node', async () => {
    const committed = fs.readFileSync(CONTRACT, 'utf8');
    for (const port of stackEnv().SERVICE_PORTS.split(',')) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      // Same document, byte for byte once laid out canonically (the service sends it compact).
      expect(canonicalJson(await res.json())).toBe(committed);
    }
  });
});
