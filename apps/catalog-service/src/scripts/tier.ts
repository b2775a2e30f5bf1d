import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, ConfigModule, loadConfig } from '@app/config';
import { LoggerModule } from '@app/logger';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import { RedisMonitorRepository } from '@catalog/tiering/repositories/redis-monitor.repository';
import { TieringRepository } from '@catalog/tiering/repositories/tiering.repository';
import { TieringModule } from '@catalog/tiering/tiering.module';
import { RunResult, TieringService, TieringStatus } from '@catalog/tiering/services/tiering.service';
import { WriteRoom, writeRoom } from '@catalog/tiering/services/write-room';

const USAGE = `usage: npm run tier -- status|run [--json]

  status   key counts per tier, the expire ratio, the write room (free + evictable memory, as
           bin/check_catalog_redis judges it), memory used vs maxmemory, the persistent set's
           estimated memory vs its budget, and the last pass (by any node)
  run      one tiering pass now (takes the lease like the nodes do; runs even if a node ran one recently)

Connection settings and TIERING_* come from the environment, as for the service
(for a local stack: set -a; . .stack/dev/env.sh; set +a).`;

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function roomLine(room: WriteRoom | null, maxmemory: number): string {
  if (!room) return 'write room        unlimited (maxmemory 0: Redis refuses no write for memory)';
  const share = room.roomBytes / maxmemory;
  // bin/check_catalog_redis' defaults: bursts of 10 % of maxmemory, WARNING below 2, CRITICAL below 1.
  const verdict =
    share < 0.1 ? 'CRITICAL: the next burst of writes may fail with OOM' : share < 0.2 ? 'WARNING' : 'OK';
  return (
    `write room        ${mib(room.roomBytes)} (${pct(share)} of maxmemory) = ${mib(room.freeBytes)} free + ` +
    `~${mib(room.evictableBytes)} evictable (${room.method}): ${verdict} (check_catalog_redis: WARNING below 20 %, CRITICAL below 10 %)`
  );
}

function printStatus(s: TieringStatus, room: WriteRoom | null): void {
  const lines = [
    `redis keys        ${s.keys}: persistent ${s.persistentKeys}, volatile ${s.volatileKeys}`,
    `expire ratio      ${s.expireRatio.toFixed(3)} (expires / keys; low is normal while memory is free: the write room is what counts)`,
    roomLine(room, s.maxmemory),
    `memory            ${mib(s.usedMemory)} used of ${s.maxmemory ? mib(s.maxmemory) : 'unlimited'}` +
      (s.maxmemory ? ` (${pct(1 - s.usedMemory / s.maxmemory)} free)` : '') +
      `, policy ${s.policy}, evicted keys ${s.evictedKeys}`,
    `persistent set    ~${mib(s.persistent.bytes)} (${s.persistentKeys} keys x ${s.persistent.avgKeyBytes} B, ` +
      `${s.persistent.method} over ${s.persistent.sampled} sampled keys, ${s.persistent.sampledPersistent} persistent; ` +
      `dataset-share method: ${mib(s.persistentBytesByDatasetShare)})`,
    s.budget.source === 'none'
      ? 'budget            none (maxmemory 0 and TIERING_PERSISTENT_BUDGET_BYTES unset)'
      : `budget            ${mib(s.budget.bytes)} (${s.budget.source === 'bytes' ? 'TIERING_PERSISTENT_BUDGET_BYTES' : 'TIERING_PERSISTENT_BUDGET_RATIO x maxmemory'}): ` +
        `${pct(s.persistent.bytes / s.budget.bytes)} used, ${s.persistent.bytes <= s.budget.bytes ? 'within budget' : 'OVER BUDGET'}`,
  ];
  const r = s.lastRun;
  lines.push(
    r
      ? `last pass         ${r.startedAt} by ${r.node}: ${r.outcome}, demoted ${r.demotedKeys} keys (${mib(r.demotedBytes)}) ` +
          `after scanning ${r.scannedKeys} in ${r.durationMs} ms`
      : 'last pass         none recorded (7 days)',
  );
  process.stdout.write(lines.join('\n') + '\n');
}

function printRun(r: RunResult): void {
  if (!('durationMs' in r)) {
    process.stdout.write(
      `no pass: ${r.outcome === 'lease_held' ? 'a node is running one right now' : r.outcome}\n`,
    );
    return;
  }
  process.stdout.write(
    `${r.outcome}: persistent set ${mib(r.persistentBytesBefore)} -> ${mib(r.persistentBytesAfter)}, budget ${mib(r.budgetBytes)}; ` +
      `scanned ${r.scannedKeys} keys, ${r.candidates} idle candidates, demoted ${r.demotedKeys} (${mib(r.demotedBytes)}) in ${r.durationMs} ms\n`,
  );
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || (command !== 'status' && command !== 'run')) {
    process.stdout.write(USAGE + '\n');
    process.exit(values.help ? 0 : 3);
  }
  // The CLI never starts the periodic job; its log lines go to LOG_DIR only (stdout is for the report).
  const config = { ...loadConfig(), TIERING_ENABLED: false, LOG_STDOUT: false };

  @Module({
    imports: [ConfigModule.forRoot(config), LoggerModule, MetricsModule, RedisModule, TieringModule],
  })
  class TierCliModule {}

  const app = await NestFactory.createApplicationContext(TierCliModule, { logger: false });
  try {
    const tiering = app.get(TieringService);
    if (command === 'status') {
      const [s, stats, samples] = await Promise.all([
        tiering.status(),
        app.get(RedisMonitorRepository).stats('primary'),
        app.get(TieringRepository).sample(config.TIERING_SAMPLE_KEYS),
      ]);
      const room = writeRoom(stats, samples);
      if (values.json) process.stdout.write(JSON.stringify({ ...s, writeRoom: room }, null, 2) + '\n');
      else printStatus(s, room);
    } else {
      const r = await tiering.runOnce({ force: true, owner: `cli@${hostname()}:${process.pid}` });
      if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else printRun(r);
    }
  } finally {
    await app.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    e instanceof ConfigError ? `${e.message}\n` : `tier failed: ${(e as Error).message}\n`,
  );
  process.exit(1);
});
