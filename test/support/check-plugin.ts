import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './stack';

export const CHECK_PLUGIN = path.join(ROOT, 'bin/check_catalog_redis');

export interface PluginRun {
  code: number;
  /** The first output line: status text and perfdata. */
  line: string;
  status: string;
  perf: Record<string, string>;
  stdout: string;
}

/** Runs bin/check_catalog_redis as a monitoring host would, and splits its output as Icinga does. */
export function check(...args: string[]): Promise<PluginRun> {
  return new Promise((resolve) => {
    execFile(CHECK_PLUGIN, args, { timeout: 30_000 }, (err, stdout) => {
      const line = stdout.split('\n')[0];
      const [status, perfdata = ''] = line.split(' | ');
      const perf = Object.fromEntries(
        perfdata
          .split(' ')
          .filter(Boolean)
          .map((p) => p.split('=') as [string, string]),
      );
      const code = err ? Number((err as { code?: number }).code) : 0;
      resolve({ code, line, status, perf, stdout });
    });
  });
}
