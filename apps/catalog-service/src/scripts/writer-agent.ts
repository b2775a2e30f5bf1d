import * as net from 'node:net';
import { parseArgs } from 'node:util';
import { createConnection, Connection, RowDataPacket } from 'mysql2/promise';
// The rule alone, not the database module: the agent starts in well under a second.
import {
  MasterState,
  readOnlyPlan,
  replicationState,
  RouteServer,
  routedWriter,
  Verdict,
  writerReplication,
  writerVerdict,
} from '@app/database/writer-verdict';

const HELP = `Usage: writer-agent --listen PORT --self HOST:PORT --peer HOST:PORT [--haproxy-socket PATH --server NAME]

HAProxy agent check for one MariaDB master (agent-check in infra/haproxy/db.cfg.tmpl). Answers "up" only
while this master has applied everything its peer committed, so the DB HAProxy never sends writes to a
master that is behind (libs/database/src/writer-verdict.ts has the rule). With --haproxy-socket it also keeps
read_only ON on this master unless HAProxy routes writes to it, and cuts the writer sessions HAProxy still
holds to it then, so a master that is not the writer refuses writes in the database itself. Logs one line
per change.

  --listen PORT           port HAProxy's agent-check connects to (127.0.0.1)
  --self HOST:PORT        the master this agent speaks for
  --peer HOST:PORT        the other master
  --haproxy-socket PATH   the DB HAProxy's admin socket (show table, show stat, shutdown sessions)
  --server NAME           this master's server name in the writer backend (mariadb-a)
  --backend NAME          the writer backend (default mysql-writer)
  -h, --help              this text
It stops the open writer's replication from a peer it cannot reach, and starts it again only once the
peer has nothing the writer lacks (a crashed writer can come back with a transaction it never sent).
Env: MYSQL_MONITOR_USER, MYSQL_MONITOR_PASSWORD (the stack passes its catalog_agent account: SLAVE MONITOR,
READ_ONLY ADMIN to set read_only, REPLICATION SLAVE ADMIN to stop and start replication; no data).
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

interface Observed {
  /** replicating: the IO thread runs or is connecting (not stopped) */
  self: MasterState & { readOnly: boolean; replicating: boolean };
  /** null: the peer did not answer */
  peer: { binlogPos: string; readOnly: boolean } | null;
}

/** SHOW, not SELECT: the agents ask twice a second, and tests count Com_select to prove coalescing. */
async function variables(c: Connection, names: string[]): Promise<Map<string, string>> {
  const [rows] = await c.query<RowDataPacket[]>('SHOW GLOBAL VARIABLES WHERE Variable_name IN (?)', [names]);
  return new Map(rows.map((r) => [String(r.Variable_name), String(r.Value ?? '')]));
}

async function selfState(addr: string): Promise<Observed['self']> {
  return withConnection(addr, async (c) => {
    const vars = await variables(c, ['gtid_current_pos', 'read_only']);
    const [rows] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
    return {
      currentPos: vars.get('gtid_current_pos') ?? '',
      readOnly: vars.get('read_only') === 'ON',
      ...replicationState(vars.get('read_only') === 'OFF', rows[0]),
    };
  });
}

async function peerState(addr: string): Promise<Observed['peer']> {
  try {
    return await withConnection(addr, async (c) => {
      const vars = await variables(c, ['gtid_binlog_pos', 'read_only']);
      return { binlogPos: vars.get('gtid_binlog_pos') ?? '', readOnly: vars.get('read_only') === 'ON' };
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
async function observe(self: string, peer: string): Promise<Observed | null> {
  try {
    const p = await peerState(peer);
    return { peer: p, self: await selfState(self) };
  } catch {
    return null;
  }
}

/** The DB HAProxy's admin socket: one command, its whole answer. */
function haproxy(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let out = '';
    c.setTimeout(2_000, () => c.destroy(new Error('HAProxy admin socket timed out')));
    c.on('data', (d) => (out += String(d)));
    c.on('end', () => resolve(out));
    c.on('error', reject);
    c.end(command + '\n');
  });
}

/** Where HAProxy sends new writer connections, and how many writer sessions it holds to `server`. */
async function route(
  socket: string,
  backend: string,
  server: string,
): Promise<{ writer: string | null; sessions: number } | null> {
  try {
    const table = await haproxy(socket, `show table ${backend}`);
    const sticky = /server_key=(\S+)/.exec(table)?.[1] ?? null;
    const csv = (await haproxy(socket, 'show stat')).split('\n');
    const head = (csv[0] ?? '').replace(/^# /, '').split(',');
    const col = (name: string) => head.indexOf(name);
    const servers: RouteServer[] = csv
      .slice(1)
      .map((l) => l.split(','))
      .filter((f) => f[col('pxname')] === backend && !['FRONTEND', 'BACKEND'].includes(f[col('svname')]))
      .map((f) => ({
        name: f[col('svname')],
        status: f[col('status')],
        backup: f[col('bck')] === '1',
        sessions: Number(f[col('scur')]) || 0,
      }));
    if (servers.length === 0) return null;
    return {
      writer: routedWriter(sticky, servers),
      sessions: servers.find((s) => s.name === server)?.sessions ?? 0,
    };
  } catch {
    return null;
  }
}

interface Options {
  self: string;
  peer: string;
  socket?: string;
  server?: string;
  backend: string;
}

async function setReadOnly(addr: string, on: boolean): Promise<void> {
  await withConnection(addr, async (c) => {
    // SET GLOBAL read_only waits for running writes to finish; never for long.
    await c.query('SET SESSION lock_wait_timeout = 2');
    await c.query(`SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`);
  });
}

/**
 * The read_only layer (readOnlyPlan): closes this master unless HAProxy routes writes to it, cuts the writer
 * sessions left on it, and opens it when it is the routed writer with everything and its peer is closed. An
 * open that finds the peer open too right after is undone (both agents then try again next round).
 */
async function enforce(o: Options, seen: Observed, v: Verdict, say: (s: string) => void): Promise<void> {
  if (!o.socket || !o.server) return;
  const r = await route(o.socket, o.backend, o.server);
  const plan = readOnlyPlan(o.server, r, v, seen.peer?.readOnly ?? null);
  let undone = false;
  if (plan.readOnly !== null && plan.readOnly !== seen.self.readOnly) {
    await setReadOnly(o.self, plan.readOnly);
    say(`read_only ${plan.readOnly ? 'ON' : 'OFF'} #${plan.why}`);
    if (!plan.readOnly && (await peerState(o.peer))?.readOnly === false) {
      await setReadOnly(o.self, true);
      undone = true;
      say('read_only ON #the peer opened at the same moment: both retry next round');
    }
  }
  if (plan.cutSessions && plan.readOnly) {
    await haproxy(o.socket, `shutdown sessions server ${o.backend}/${o.server}`);
    say(`cut ${r?.sessions ?? 0} writer sessions #${plan.why}`);
  }
  const open = plan.readOnly === null ? !seen.self.readOnly : !plan.readOnly && !undone;
  const rep = writerReplication(
    open,
    seen.self.replicating,
    seen.self.currentPos,
    seen.peer?.binlogPos ?? null,
  );
  const sqlError = seen.self.slave?.lastSqlError ?? '';
  if (seen.self.slave && rep.run !== seen.self.replicating && !(rep.run && sqlError)) {
    await withConnection(o.self, (c) => c.query(rep.run ? 'START SLAVE' : 'STOP SLAVE'));
    say(`replication from the peer ${rep.run ? 'started' : 'stopped'} #${rep.why}`);
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      self: { type: 'string' },
      peer: { type: 'string' },
      'haproxy-socket': { type: 'string' },
      server: { type: 'string' },
      backend: { type: 'string', default: 'mysql-writer' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.listen || !values.self || !values.peer) {
    (values.help ? process.stdout : process.stderr).write(HELP);
    process.exit(values.help ? 0 : 3);
  }
  const o: Options = {
    self: values.self,
    peer: values.peer,
    socket: values['haproxy-socket'],
    server: values.server,
    backend: values.backend,
  };
  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${o.self} ${line}\n`);
  let last = '';
  // One round at a time; HAProxy asks every 500 ms, a person with nc whenever. The answer goes out as soon
  // as the verdict is known; the read_only layer follows within the same round.
  let round: Promise<string> | null = null;
  const evaluate = async (): Promise<{ line: string; enforce: () => Promise<void> }> => {
    const seen = await observe(o.self, o.peer);
    if (seen === null)
      return { line: '#this master did not answer the agent', enforce: () => Promise.resolve() };
    const v = writerVerdict(seen.self, seen.peer?.binlogPos ?? null);
    return { line: `${v.up ? 'up' : 'down'} #${v.why}`, enforce: () => enforce(o, seen, v, say) };
  };
  const next = (): Promise<string> => {
    if (round === null) {
      const r = evaluate();
      round = r.then((x) => x.line);
      void r
        .then((x) => x.enforce())
        .catch((e: Error) => say(`read_only layer failed: ${e.message}`))
        .finally(() => (round = null));
    }
    return round;
  };
  // The read_only layer runs on its own clock too: it must not depend on HAProxy still asking this agent
  // (an agent check disabled or timing out on a busy machine).
  if (o.socket) setInterval(() => void next(), 500).unref();
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    void next().then((line) => {
      // No state word: HAProxy keeps the state it has (a busy moment must not move the writer).
      if (line !== last) {
        say(line);
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
