import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { waitFor } from './stack';

/**
 * A Redis of its own for a test that must control the whole keyspace (or stop the server), so the shared
 * test Redis is left alone. Port: BASE_PORT + STACK_PORT_OFFSET, in the Redis port cluster (26xxx).
 */
export class RedisInstance {
  readonly url: string;
  private proc?: ChildProcess;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-redis-'));

  constructor(readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static forBasePort(basePort: number): RedisInstance {
    return new RedisInstance(basePort + Number(process.env.STACK_PORT_OFFSET ?? 1000));
  }

  async start(maxmemory = '64mb'): Promise<void> {
    const taken = await new Promise<boolean>((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (taken) throw new Error(`port ${this.port} is already in use: another test Redis was left running?`);
    // The same eviction policy as the stack's Redis; no persistence (the data dies with the test).
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        maxmemory,
        '--maxmemory-policy',
        'volatile-lru',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    const client = this.client();
    try {
      await waitFor(
        () =>
          client.ping().then(
            () => true,
            () => false,
          ),
        10_000,
        50,
      );
    } finally {
      client.disconnect();
    }
  }

  /** A client that stays quiet when the server is stopped on purpose (commands still fail). */
  client(): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    return client;
  }

  /** Stops the server this test started (by its own pid) and waits until it is gone. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
