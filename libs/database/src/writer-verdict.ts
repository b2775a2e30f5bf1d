/**
 * Whether a MariaDB master may take writes: the rule the DB HAProxy's agent check applies to each master
 * (infra/haproxy/db.cfg.tmpl, scripts: writer-agent). A master that has not applied everything its peer
 * committed must never take writes, or the pair diverges and versions go backwards.
 */

/** `domain-server-seq` triples, as in @@gtid_binlog_pos: the highest seq per replication domain. */
export function gtidSeqs(pos: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const part of pos.split(',')) {
    const m = /^\s*(\d+)-\d+-(\d+)\s*$/.exec(part);
    if (!m) continue;
    const domain = Number(m[1]);
    const seq = BigInt(m[2]);
    if ((out.get(domain) ?? -1n) < seq) out.set(domain, seq);
  }
  return out;
}

/** True when `have` contains every transaction of `need` (per domain, seq at least as high). */
export function gtidCovers(have: string, need: string): boolean {
  const h = gtidSeqs(have);
  for (const [domain, seq] of gtidSeqs(need)) if ((h.get(domain) ?? -1n) < seq) return false;
  return true;
}

export interface MasterState {
  /** @@gtid_current_pos: what this server has, its own writes and what it applied from its peer. */
  currentPos: string;
  /** From SHOW SLAVE STATUS (replication from the peer); null when replication is not configured. */
  slave: {
    sqlRunning: boolean;
    lastSqlError: string;
    /** Everything received into the relay log has been applied. */
    relayApplied: boolean;
  } | null;
}

export type Verdict = { up: true; why: string } | { up: false; why: string };

/**
 * - The peer answers: up only when this server has every transaction in the peer's binlog (the peer's
 *   binlog holds what the peer committed and what it replicated from here).
 * - The peer is gone: up when this server applied everything it received from the peer. With lossless
 *   semi-synchronous replication (AFTER_SYNC) every write the peer acknowledged reached this relay log
 *   before it was acknowledged, so "relay log applied" means "every acknowledged write is here".
 * - The replication SQL thread stopped on an error: never up (the pair has diverged; a person must look).
 */
export function writerVerdict(self: MasterState, peerBinlogPos: string | null): Verdict {
  if (self.slave && !self.slave.sqlRunning && self.slave.lastSqlError) {
    return { up: false, why: `replication stopped on an error: ${self.slave.lastSqlError.slice(0, 80)}` };
  }
  if (peerBinlogPos !== null) {
    return gtidCovers(self.currentPos, peerBinlogPos)
      ? { up: true, why: 'has everything its peer committed' }
      : { up: false, why: 'behind its peer: applying its binlog' };
  }
  if (!self.slave) return { up: true, why: 'peer unreachable, no replication configured' };
  if (!self.slave.sqlRunning)
    return { up: false, why: 'peer unreachable and replication SQL thread stopped' };
  return self.slave.relayApplied
    ? { up: true, why: 'peer unreachable, relay log applied' }
    : { up: false, why: 'peer unreachable, relay log still being applied' };
}
