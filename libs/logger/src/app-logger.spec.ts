import { describe, it } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppLogger } from './app-logger';

describe(AppLogger.name, () => {
  it('drops lines logged after close instead of crashing on a write after end', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logger-'));
    const logger = new AppLogger({ level: 'info', nodeName: 't', dir, stdout: false });
    logger.channel('redis').info('before close');
    await logger.close();
    // A Redis client's "connection closed" event arrives after the logger closed during shutdown.
    const crashed = new Promise((resolve) => process.once('uncaughtException', resolve));
    logger.channel('redis').info('after close');
    logger.log('after close');
    const outcome = await Promise.race([crashed, new Promise((r) => setTimeout(() => r('ok'), 50))]);
    expect(outcome).toBe('ok');
    const lines = fs.readFileSync(path.join(dir, 'redis.log'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['before close']);
    await logger.close(); // closing twice is harmless
  });
});
