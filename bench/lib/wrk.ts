import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WrkResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
  status_errors: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  tier_mysql: number;
  tier_redis: number;
  cache_hit: number;
  cache_miss: number;
  /** Whether responses were counted (status classes, tier, X-Cache); without, only statuses >= 400 are. */
  counted: boolean;
}

const LUA = path.join(__dirname, '../../../bench/lib/wrk.lua');

/** wrk (C, one thread) so that the load generator takes as little of the 2 cores as possible. */
export function runWrk(
  url: string,
  pathsFile: string,
  seconds: number,
  connections: number,
  extraHeaders: string[] = [],
  count = false,
): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', LUA];
  for (const h of extraHeaders) args.push('-H', h);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      args,
      { env: { ...process.env, WRK_PATHS: pathsFile, WRK_COUNT: count ? '1' : '0' }, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
        if (!line) return reject(new Error(`wrk failed: ${err?.message ?? ''} ${stderr} ${stdout}`));
        resolve({ ...(JSON.parse(line.slice(9)) as WrkResult), counted: count });
      },
    );
  });
}

export function writePaths(file: string, paths: string[]): string {
  fs.writeFileSync(file, paths.join('\n') + '\n');
  return file;
}

export interface WrkWriteResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  non2xx: number;
  errors: number;
}

const WRITE_LUA = path.join(__dirname, '../../../bench/lib/wrk-write.lua');

/** PUTs over an id range (the mixed scenario's writers). */
export function runWrkWrites(
  url: string,
  ids: { from: number; count: number },
  seconds: number,
  connections: number,
  auth: string,
): Promise<WrkWriteResult> {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    WRITE_LUA,
    '-H',
    `Authorization: ${auth}`,
    '-H',
    'Content-Type: application/json',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      args,
      { env: { ...process.env, WRK_IDS: `${ids.from},${ids.count}` } },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
        if (!line) return reject(new Error(`wrk (writes) failed: ${err?.message ?? ''} ${stderr} ${stdout}`));
        resolve(JSON.parse(line.slice(9)) as WrkWriteResult);
      },
    );
  });
}
