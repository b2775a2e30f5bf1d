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
  /**
   * The open writer (read_only OFF) whose replication from its peer is stopped (its agent stopped it when the
   * peer was unreachable: writerReplication). Undefined where not known.
   */
  cutOffWriter?: boolean;
  /** From SHOW SLAVE STATUS (replication from the peer); null when replication is not configured. */
  slave: {
    sqlRunning: boolean;
    lastSqlError: string;
    /** Everything received into the relay log has been applied. */
    relayApplied: boolean;
  } | null;
}

/**
 * A master's replication from its peer, as the agent's rules need it. `replicating` and `cutOffWriter` are
 * both about the I/O thread, the one that pulls from the peer: an open writer whose I/O thread is stopped
 * pulls nothing, whatever its SQL thread does. (cutOffWriter once also asked for a stopped SQL thread: a
 * writer that opened while only its I/O thread was stopped then read a peer that came back errant as
 * "behind its peer", closed, replicated and pulled the errant commits: chaos mariadb-writer-kill-unsent.)
 */
export function replicationState(
  open: boolean,
  s: Readonly<Record<string, unknown>> | undefined, // a row of SHOW SLAVE STATUS
): Pick<MasterState, 'cutOffWriter' | 'slave'> & { replicating: boolean } {
  if (!s) return { replicating: false, cutOffWriter: false, slave: null };
  const lastSqlError = typeof s.Last_SQL_Error === 'string' ? s.Last_SQL_Error : '';
  const ioStopped = s.Slave_IO_Running === 'No';
  return {
    replicating: !ioStopped,
    cutOffWriter: open && ioStopped && !lastSqlError,
    slave: {
      sqlRunning: s.Slave_SQL_Running === 'Yes',
      lastSqlError,
      relayApplied:
        s.Master_Log_File === s.Relay_Master_Log_File &&
        Number(s.Read_Master_Log_Pos) === Number(s.Exec_Master_Log_Pos),
    },
  };
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
    if (gtidCovers(self.currentPos, peerBinlogPos))
      return { up: true, why: 'has everything its peer committed' };
    // The peer came back with transactions this writer never had (written, never sent, committed by crash
    // recovery): errant, not "ahead". The writer stays the writer and keeps them out.
    if (self.cutOffWriter)
      return { up: true, why: 'peer has transactions it never had (errant, kept out): re-clone the peer' };
    return { up: false, why: 'behind its peer: applying its binlog' };
  }
  if (!self.slave) return { up: true, why: 'peer unreachable, no replication configured' };
  // A SQL thread stopped without an error (the agent stops the open writer's replication from a peer it
  // cannot reach, writerReplication): what it received is what counts, as with a running one.
  return self.slave.relayApplied
    ? { up: true, why: 'peer unreachable, relay log applied' }
    : { up: false, why: 'peer unreachable, relay log still being applied' };
}

/** One server of the DB HAProxy's writer backend, as its `show stat` reports it. */
export interface RouteServer {
  name: string;
  /** UP, DOWN, MAINT, DRAIN, NOLB, or a transition such as "UP 1/2" */
  status: string;
  backup: boolean;
  /** writer sessions open to this server now */
  sessions: number;
}

const up = (s: RouteServer) => s.status === 'UP' || s.status.startsWith('UP ');

/**
 * The master a new writer connection reaches: HAProxy's own choice, restated. The sticky entry while its
 * server takes connections (a drained server still takes sticky ones), else the first active server that is
 * up, else the first backup that is up; null when none is. The agents close every other master
 * (readOnlyPlan), so the pair takes writes on the one HAProxy routes them to and nowhere else.
 */
export function routedWriter(sticky: string | null, servers: readonly RouteServer[]): string | null {
  const entry = servers.find((s) => s.name === sticky);
  if (entry && (up(entry) || entry.status === 'DRAIN')) return entry.name;
  return (servers.find((s) => !s.backup && up(s)) ?? servers.find((s) => s.backup && up(s)))?.name ?? null;
}

export interface ReadOnlyPlan {
  /** the read_only this master must have; null: leave it as it is */
  readOnly: boolean | null;
  /** cut the writer sessions HAProxy still holds to this master (after read_only is ON) */
  cutSessions: boolean;
  why: string;
}

/**
 * The second layer under the agent check: `read_only` on every master that is not the routed writer, so a
 * writer session left on the wrong master (the split one helper's stack saw) is refused by the database
 * itself. The routed writer opens (read_only OFF) only while it has everything its peer committed and the
 * peer is closed or gone; two masters never both open, whatever order the two agents act in: each opens
 * only after seeing the other closed, and one that sees its peer open closes itself (both retry next round).
 * - route: null when the DB HAProxy could not be asked (nothing changes then).
 * - peerReadOnly: null when the peer did not answer (it is down, or HAProxy's own check will mark it so).
 */
export function readOnlyPlan(
  self: string,
  route: { writer: string | null; sessions: number } | null,
  verdict: Verdict,
  peerReadOnly: boolean | null,
): ReadOnlyPlan {
  if (route === null) return { readOnly: null, cutSessions: false, why: 'DB HAProxy not reachable' };
  if (route.writer !== self) {
    return {
      readOnly: true,
      cutSessions: route.sessions > 0,
      why: `writes go to ${route.writer ?? 'no master'}`,
    };
  }
  if (!verdict.up) return { readOnly: true, cutSessions: false, why: verdict.why };
  if (peerReadOnly === false) return { readOnly: true, cutSessions: false, why: 'peer still open to writes' };
  return { readOnly: false, cutSessions: false, why: 'routed writer with everything its peer committed' };
}

/**
 * Whether the open writer may replicate from its peer now. A writer that took over while its peer did not
 * answer must not pull what the peer comes back with: a crashed writer can restart with a transaction in its
 * binlog that it wrote but never sent (so never acknowledged to a client), and crash recovery commits it.
 * Replicated into the new writer, that transaction overwrites newer versions (seen once in the chaos run:
 * versions backwards, one (id, version) with two documents). So the writer stops replicating from a peer it
 * cannot reach, and starts again only once the peer has nothing it lacks; a peer that has (an errant
 * transaction) stays cut off until the stack re-clones it (scripts/stack.sh, rejoin_errant_masters).
 * A closed master always replicates from the writer.
 */
export function writerReplication(
  open: boolean,
  replicating: boolean,
  selfCurrentPos: string,
  peerBinlogPos: string | null,
): { run: boolean; why: string } {
  if (!open) return { run: true, why: 'closed: it replicates from the writer' };
  if (peerBinlogPos === null)
    return { run: false, why: 'peer unreachable: nothing it returns with is pulled' };
  // Running, it stays running: what the peer has beyond this writer then is on its way (a row a person wrote
  // on the passive master), not something it came back with.
  if (replicating) return { run: true, why: 'replicating from a peer that stayed reachable' };
  return gtidCovers(selfCurrentPos, peerBinlogPos)
    ? { run: true, why: 'peer has nothing this writer lacks' }
    : { run: false, why: 'peer has transactions this writer never had (errant): re-clone the peer' };
}
