import { LoggerService } from '@nestjs/common';
import * as path from 'node:path';
import * as winston from 'winston';
import { ConfigError } from '@app/config';
import { requestContext } from './request-context';

export const CHANNELS = [
  'main',
  'http',
  'redis',
  'mysql',
  'tiering',
  'invalidation',
  'relay',
  'categories',
] as const;
export type Channel = (typeof CHANNELS)[number];
export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug';
type Meta = Record<string, unknown>;

export interface LoggerOptions {
  level: LogLevel;
  /** Per-channel overrides of `level` (LOG_CHANNEL_LEVELS). */
  channelLevels?: Partial<Record<Channel, LogLevel>>;
  nodeName: string;
  dir?: string;
  stdout: boolean;
}

const SEVERITY: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5 };

/** `redis=debug,http=warn` -> { redis: 'debug', http: 'warn' }; unknown channels or levels are a config error. */
export function parseChannelLevels(spec: string): Partial<Record<Channel, LogLevel>> {
  const out: Partial<Record<Channel, LogLevel>> = {};
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [channel, level] = part.split('=').map((s) => s.trim());
    if (!(CHANNELS as readonly string[]).includes(channel) || !(level in SEVERITY)) {
      throw new ConfigError(
        `Invalid configuration:\n  LOG_CHANNEL_LEVELS: "${part}" (channels: ${CHANNELS.join(', ')}; levels: ${Object.keys(SEVERITY).join(', ')})`,
      );
    }
    out[channel as Channel] = level as LogLevel;
  }
  return out;
}

const SECRET_KEY = /authorization|password|passwd|secret|token|api[-_]?key|cookie/i;

/** Belt and braces: callers never pass secrets, and anything that looks like one is masked anyway. */
const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEY.test(key)) info[key] = '[redacted]';
  }
  return info;
});

const withContext = (nodeName: string) =>
  winston.format((info) => {
    info.node = nodeName;
    info.channel ??= 'main';
    const ctx = requestContext.getStore();
    if (ctx && info.requestId === undefined) info.requestId = ctx.requestId;
    return info;
  });

const onlyChannel = (channel: Channel) =>
  winston.format((info) => (info.channel === channel ? info : false))();

/** winston filters by one level; this applies each channel's own level on top of it. */
const channelLevel = (levelOf: (channel: Channel) => LogLevel) =>
  winston.format((info) =>
    SEVERITY[info.level as LogLevel] <= SEVERITY[levelOf(info.channel as Channel)] ? info : false,
  );

type Sink = (level: LogLevel, message: string, meta: Meta) => void;

export class ChannelLogger {
  constructor(
    private readonly sink: Sink,
    readonly channel: Channel,
    private readonly level: LogLevel,
  ) {}

  error(message: string, meta: Meta = {}): void {
    this.sink('error', message, { ...meta, channel: this.channel });
  }
  warn(message: string, meta: Meta = {}): void {
    this.sink('warn', message, { ...meta, channel: this.channel });
  }
  info(message: string, meta: Meta = {}): void {
    this.sink('info', message, { ...meta, channel: this.channel });
  }
  http(message: string, meta: Meta = {}): void {
    this.sink('http', message, { ...meta, channel: this.channel });
  }
  verbose(message: string, meta: Meta = {}): void {
    this.sink('verbose', message, { ...meta, channel: this.channel });
  }
  debug(message: string, meta: Meta = {}): void {
    this.sink('debug', message, { ...meta, channel: this.channel });
  }
  /** Lets callers skip building a line nobody will see (the access log is on the hot path). */
  isEnabled(level: LogLevel): boolean {
    return SEVERITY[level] <= SEVERITY[this.level];
  }
}

/**
 * winston behind Nest's LoggerService: JSON lines, a request id on every line of a request,
 * one main log plus one file per channel when LOG_DIR is set.
 */
export class AppLogger implements LoggerService {
  private readonly root: winston.Logger;
  private readonly channels = new Map<Channel, ChannelLogger>();
  private readonly levelOf: (channel: Channel) => LogLevel;
  private readonly states = new Map<string, string>();
  private closed = false;
  /**
   * Every line goes through here. After close() lines are dropped: a client's connection event during
   * shutdown (Redis "connection closed") would otherwise be a write after end, which crashes the process.
   */
  private readonly sink: Sink = (level, message, meta) => {
    if (!this.closed) this.root.log(level, message, meta);
  };

  constructor(options: LoggerOptions) {
    const overrides = options.channelLevels ?? {};
    this.levelOf = (channel) => overrides[channel] ?? options.level;
    // winston's own level is the most verbose of all, the per-channel filter does the rest.
    const rootLevel = [options.level, ...Object.values(overrides)].reduce((a, b) =>
      SEVERITY[b] > SEVERITY[a] ? b : a,
    );
    const base = winston.format.combine(
      withContext(options.nodeName)(),
      channelLevel(this.levelOf)(),
      redact(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
    );
    const transports: winston.transport[] = [];
    if (options.stdout) transports.push(new winston.transports.Console({ format: winston.format.json() }));
    if (options.dir) {
      // Each line lands in exactly one file: main.log has the main channel only (start, listen, shutdown).
      for (const channel of CHANNELS) {
        transports.push(
          new winston.transports.File({
            filename: path.join(options.dir, `${channel}.log`),
            format: winston.format.combine(onlyChannel(channel), winston.format.json()),
          }),
        );
      }
    }
    if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
    this.root = winston.createLogger({ level: rootLevel, format: base, transports });
  }

  channel(channel: Channel): ChannelLogger {
    let logger = this.channels.get(channel);
    if (!logger) {
      logger = new ChannelLogger(this.sink, channel, this.levelOf(channel));
      this.channels.set(channel, logger);
    }
    return logger;
  }

  /**
   * Logs only when `state` differs from the last one seen for `key` (health checks: one line when a probe's
   * answer changes, not one per probe every few seconds).
   */
  onChange(
    channel: Channel,
    key: string,
    state: string,
    level: LogLevel,
    message: string,
    meta: Meta = {},
  ): void {
    const was = this.states.get(key);
    if (was === state) return;
    this.states.set(key, state);
    this.channel(channel)[level](message, was === undefined ? meta : { ...meta, was });
  }

  log(message: unknown, context?: string): void {
    this.sink('info', String(message), { context });
  }
  error(message: unknown, stack?: string, context?: string): void {
    this.sink('error', String(message), { stack, context });
  }
  warn(message: unknown, context?: string): void {
    this.sink('warn', String(message), { context });
  }
  debug(message: unknown, context?: string): void {
    this.sink('debug', String(message), { context });
  }
  verbose(message: unknown, context?: string): void {
    this.sink('verbose', String(message), { context });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.root.on('finish', () => resolve());
      this.root.end();
    });
  }
}
