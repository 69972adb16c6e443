// A Node Socket.IO server on @socket.io/postgres-adapter, to form a mixed
// Go/Node cluster on one PostgreSQL; it also drives @socket.io/postgres-emitter.
//
// usage: node pg-node-server.mjs <port|0> <postgres-url> <channel-prefix> <table> [name]
//
// The adapter runs with heartbeatInterval 1000 ms and heartbeatTimeout
// 3000 ms. Clients may emit "join" (room) with an ack, like the Go test
// server. The server answers server-side "ping-server" events with
// {from:<name>, ok:true} and reports them.
//
// Commands arrive as JSON lines on stdin, each with an "id"; results leave as
// {"ev":"result","id",...} JSON lines on stdout. Binary travels as
// {"$bin":"<base64>"}. The commands of redis-node-server.mjs (emit,
// emitWithAck, fetchSockets, localSockets, socketsJoin, socketsLeave,
// disconnectSockets, serverSideEmit, remoteSocket, serverCount, exit), and
// the emitter's (Node's emitter 0.1.1 leaves the namespace out of its
// messages: Node servers drop them, Go servers take the channel's):
//   {"cmd":"emitter","id":1,"op":"emit"|"socketsJoin"|"socketsLeave"|"disconnectSockets"|"serverSideEmit",
//    "nsp":"/","rooms":[...],"except":[...],"volatile":true,"event":"x","args":[...],"target":[...],"close":true}
// Events: ready {port}, server-side {args, withAck}, connection {id},
// pg-error {message}, result {id, ...}
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/postgres-adapter";
import { Emitter } from "@socket.io/postgres-emitter";
import pg from "pg";
import { createInterface } from "node:readline";
import { toWire, fromWire } from "./wire.mjs";

const [port, pgUrl, prefix, table, name = "node"] = process.argv.slice(2);
const out = (ev, more = {}) => process.stdout.write(JSON.stringify({ ev, ...more }) + "\n");
const watchdog = setTimeout(() => {
  out("timeout");
  process.exit(3);
}, 120000);

const pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
// Without these, a lost connection is an uncaught error (the adapter's
// LISTEN client has no error listener of its own).
pool.on("error", (e) => out("pg-error", { message: String(e.message) }));
pool.on("connect", (c) => c.on("error", (e) => out("pg-error", { message: String(e.message) })));
await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)`).catch(() => {});

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(pool, {
    channelPrefix: prefix,
    tableName: table,
    heartbeatInterval: 1000,
    heartbeatTimeout: 3000,
    errorHandler: (e) => out("pg-error", { message: String(e && e.message) }),
  }),
});
const emitter = new Emitter(pool, "/", { channelPrefix: prefix, tableName: table });

io.on("connection", (socket) => {
  socket.data = { server: name, bin: Buffer.from([1, 2, 3]) };
  out("connection", { id: socket.id });
  socket.on("join", (room, cb) => {
    socket.join(room);
    if (typeof cb === "function") cb("joined " + room);
  });
});
io.of("/admin").on("connection", () => {});
io.on("ping-server", (...args) => {
  let cb = null;
  if (args.length && typeof args[args.length - 1] === "function") cb = args.pop();
  out("server-side", { args: toWire(args), withAck: !!cb });
  if (cb) cb({ from: name, ok: true });
});

const sel = (cmd) => {
  let op = cmd.nsp ? io.of(cmd.nsp) : io;
  if (cmd.rooms && cmd.rooms.length) op = op.to(cmd.rooms);
  if (cmd.except && cmd.except.length) op = op.except(cmd.except);
  return op;
};

const commands = {
  emit(cmd) {
    let op = sel(cmd);
    if (cmd.volatile) op = op.volatile;
    op.emit(cmd.event, ...fromWire(cmd.args || []));
    return {};
  },
  async emitWithAck(cmd) {
    try {
      const responses = await sel(cmd).timeout(cmd.timeout || 2000).emitWithAck(cmd.event, ...fromWire(cmd.args || []));
      return { responses: toWire(responses) };
    } catch (e) {
      return { error: String(e.message) };
    }
  },
  async fetchSockets(cmd) {
    const socks = await sel(cmd).fetchSockets();
    return {
      sockets: socks.map((s) => ({ id: s.id, rooms: [...s.rooms], data: toWire(s.data), query: s.handshake.query, headers: s.handshake.headers })),
    };
  },
  async localSockets(cmd) {
    let op = io.local;
    if (cmd.rooms && cmd.rooms.length) op = op.to(cmd.rooms);
    const socks = await op.fetchSockets();
    return { sockets: socks.map((s) => s.id) };
  },
  socketsJoin(cmd) {
    sel(cmd).socketsJoin(cmd.target);
    return {};
  },
  socketsLeave(cmd) {
    sel(cmd).socketsLeave(cmd.target);
    return {};
  },
  disconnectSockets(cmd) {
    sel(cmd).disconnectSockets(!!cmd.close);
    return {};
  },
  async serverSideEmit(cmd) {
    const args = fromWire(cmd.args || []);
    if (!cmd.ack) {
      io.serverSideEmit(...args);
      return {};
    }
    try {
      const responses = await io.serverSideEmitWithAck(...args);
      return { responses: toWire(responses) };
    } catch (e) {
      return { error: String(e.message) };
    }
  },
  // A socket fetched from any server: join a room, emit with ack.
  async remoteSocket(cmd) {
    const [s] = await io.in(cmd.socket).fetchSockets();
    if (!s) return { error: "no such socket" };
    if (cmd.join) s.join(cmd.join);
    if (!cmd.event) return {};
    try {
      const response = await s.timeout(cmd.timeout || 2000).emitWithAck(cmd.event, ...fromWire(cmd.args || []));
      return { response: toWire(response) };
    } catch (e) {
      return { error: String(e.message) };
    }
  },
  async serverCount() {
    return { count: await io.of("/").adapter.serverCount() };
  },
  emitter(cmd) {
    // of() would drop the prefix and table options (Node's emitter 0.1.1).
    let e = cmd.nsp && cmd.nsp !== "/" ? new Emitter(pool, cmd.nsp, { channelPrefix: prefix, tableName: table }) : emitter;
    let op = e;
    if (cmd.rooms && cmd.rooms.length) op = op.to(cmd.rooms);
    if (cmd.except && cmd.except.length) op = op.except(cmd.except);
    if (cmd.volatile) op = op.volatile;
    switch (cmd.op) {
      case "emit":
        op.emit(cmd.event, ...fromWire(cmd.args || []));
        break;
      case "socketsJoin":
        op.socketsJoin(cmd.target);
        break;
      case "socketsLeave":
        op.socketsLeave(cmd.target);
        break;
      case "disconnectSockets":
        op.disconnectSockets(!!cmd.close);
        break;
      case "serverSideEmit":
        e.serverSideEmit(cmd.event, ...fromWire(cmd.args || []));
        break;
      default:
        return { error: "unknown emitter op " + cmd.op };
    }
    return {};
  },
  async exit() {
    await finish();
    return {};
  },
};

let finishing = false;
async function finish() {
  if (finishing) return;
  finishing = true;
  clearTimeout(watchdog);
  io.close();
  try {
    await Promise.race([pool.end(), new Promise((r) => setTimeout(r, 500))]);
  } catch {}
  process.exit(0);
}

const rl = createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    out("error", { message: "bad command: " + line });
    return;
  }
  const fn = commands[cmd.cmd];
  if (!fn) {
    out("error", { message: "unknown command " + cmd.cmd });
    return;
  }
  try {
    const res = await fn(cmd);
    out("result", { id: cmd.id, cmd: cmd.cmd, ...res });
  } catch (e) {
    out("result", { id: cmd.id, cmd: cmd.cmd, error: String(e && e.stack) });
  }
});
rl.on("close", finish);

httpServer.listen(Number(port), "127.0.0.1", () => out("ready", { port: httpServer.address().port }));
