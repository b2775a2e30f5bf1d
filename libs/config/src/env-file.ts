import * as fs from 'node:fs';

/**
 * KEY=value lines of a file such as a stack's secrets.env (scripts/lib/stack-secrets.sh): comments and other
 * lines are skipped, values are taken as written (no quotes, no expansion).
 */
export function readEnvFile(file: string): Record<string, string> {
  const pairs = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  return Object.fromEntries(pairs.map((m) => [m[1], m[2]]));
}
