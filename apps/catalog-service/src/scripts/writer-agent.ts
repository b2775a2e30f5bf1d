import * as net from 'node:net';
import { parseArgs } from 'node:util';
import { createConnection, Connection, RowDataPacket } from 'mysql2/promise';
// The rule alone, not the database module: the agent starts in well under a second.
import { MasterState, Verdict, writerVerdict } from '@app/database/writer-verdict';

const HELP = `Usage: writer-agent --listen PORT --self HOST:PORT --peer HOST:PORT

HAProxy agent check for one MariaDB master (agent-check in infra/haproxy/db.cfg.tmpl). Answers "up" only
while this master has applied everything its peer committed, so the DB HAProxy never sends writes to a
master that is behind (libs/database/src/writer-verdict.ts has the rule). Logs one line per change.

  --listen PORT       port HAProxy's agent-check connects to (127.0.0.1)
  --self HOST:PORT    the master this agent speaks for
  --peer HOST:PORT    the other master
  -h, --help          this text
Env: MYSQL_MONITOR_USER, MYSQL_MONITOR_PASSWORD (the stack passes its catalog_agent account: SLAVE MONITOR only).
`;

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

async function withConnection<T>(addr: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await createConnection({
    ...hostPort(addr),
    user: process.env.MYSQL_MONITOR_USER ?? 'monitor',
    password: process.env.MYSQL_MONITOR_PASSWORD ?? 'monitor',
    connectTimeout: 2_000,
  });
  try {
    return await fn(c);
  } finally {
    c.destroy();
  }
}

async function selfState(addr: string): Promise<MasterState> {
  return withConnection(addr, async (c) => {
    // SHOW, not SELECT: the agents ask twice a second, and tests count Com_select to prove coalescing.
    const [[pos]] = await c.query<RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'gtid_current_pos'");
    const [rows] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
    const s = rows[0];
    return {
      currentPos: String(pos?.Value ?? ''),
      slave: s
        ? {
            sqlRunning: s.Slave_SQL_Running === 'Yes',
            lastSqlError: String(s.Last_SQL_Error ?? ''),
            relayApplied:
              s.Master_Log_File === s.Relay_Master_Log_File &&
              Number(s.Read_Master_Log_Pos) === Number(s.Exec_Master_Log_Pos),
          }
        : null,
    };
  });
}

async function peerBinlogPos(addr: string): Promise<string | null> {
  try {
    return await withConnection(addr, async (c) => {
      const [[row]] = await c.query<RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'gtid_binlog_pos'");
      return String(row?.Value ?? '');
    });
  } catch {
    return null;
  }
}

/**
 * null: this master did not answer the agent; HAProxy's own health check judges reachability.
 * The peer is read first, then this master: the peer's binlog holds what it replicated from here, so read
 * the other way round, while this master takes writes, the peer can already hold commits that came after
 * this master's position was read, and the writer itself looked "behind its peer". Under heavy writes that
 * marked the writer down for 0.5 s at a time, sent new connections to the backup while the old ones still
 * wrote to it, and both masters stopped replicating on a duplicate key.
 */
async function verdict(self: string, peer: string): Promise<Verdict | null> {
  try {
    const peerPos = await peerBinlogPos(peer);
    const state = await selfState(self);
    return writerVerdict(state, peerPos);
  } catch {
    return null;
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      self: { type: 'string' },
      peer: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.listen || !values.self || !values.peer) {
    (values.help ? process.stdout : process.stderr).write(HELP);
    process.exit(values.help ? 0 : 3);
  }
  const { self, peer } = values as { self: string; peer: string };
  let last = '';
  // One evaluation at a time; HAProxy asks every second, a person with nc whenever.
  let pending: Promise<Verdict | null> | null = null;
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    pending ??= verdict(self, peer).finally(() => (pending = null));
    void pending.then((v) => {
      // No state word: HAProxy keeps the state it has (a busy moment must not move the writer).
      const line = v === null ? '#this master did not answer the agent' : `${v.up ? 'up' : 'down'} #${v.why}`;
      if (line !== last) {
        process.stdout.write(`${new Date().toISOString()} ${self} ${line}\n`);
        last = line;
      }
      socket.end(line + '\n');
    });
  });
  server.listen(Number(values.listen), '127.0.0.1');
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
