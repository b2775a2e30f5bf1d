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

  it('writes each line to one file: channel lines are not repeated in main.log', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logger-'));
    const logger = new AppLogger({ level: 'info', nodeName: 't', dir, stdout: false });
    logger.log('listening');
    logger.channel('redis').warn('redis slow');
    logger.channel('http').info('GET /x rejected');
    await logger.close();
    const messages = (f: string) =>
      fs
        .readFileSync(path.join(dir, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages('main.log')).toEqual(['listening']);
    expect(messages('redis.log')).toEqual(['redis slow']);
    expect(messages('http.log')).toEqual(['GET /x rejected']);
  });

  it('logs a state only when it changes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logger-'));
    const logger = new AppLogger({ level: 'info', nodeName: 't', dir, stdout: false });
    for (const status of ['200', '200', '200', '503', '503', '200'])
      logger.onChange('http', 'ready', status, status === '200' ? 'info' : 'warn', `ready answers ${status}`);
    await logger.close();
    const lines = fs
      .readFileSync(path.join(dir, 'http.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message: string; level: string; was?: string });
    expect(lines.map((l) => [l.level, l.message, l.was])).toEqual([
      ['info', 'ready answers 200', undefined],
      ['warn', 'ready answers 503', '200'],
      ['info', 'ready answers 200', '503'],
    ]);
  });
});
