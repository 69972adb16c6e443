// A Node Socket.IO server on a Redis adapter (classic, sharded or Streams),
// to form a mixed Go/Node cluster.
//
// usage: node redis-node-server.mjs <port|0> <redis-url|cluster://a,b,c> <key-prefix> [name] [classic|sharded|streams] [csr]
// (streams: @socket.io/redis-streams-adapter with the key as stream name and channel prefix)
//
// Clients may emit "join" (room) with an ack, like the Go test server. The
// server answers server-side "ping-server" events with {from:<name>, ok:true}
// and reports them.
//
// Commands arrive as JSON lines on stdin, each with an "id"; results leave as
// {"ev":"result","id",...} JSON lines on stdout. Binary travels as
// {"$bin":"<base64>"}.
//   {"cmd":"emit","id":1,"event":"x","args":[...],"rooms":[...],"except":[...],"volatile":true,"nsp":"/admin"}
//   {"cmd":"emitWithAck","id":1,"event":"x","args":[...],"rooms":[...],"timeout":2000}
//   {"cmd":"fetchSockets","id":1,"rooms":[...]}
//   {"cmd":"localSockets","id":1,"rooms":[...]}                  ids of this server's sockets only
//   {"cmd":"socketsJoin"|"socketsLeave","id":1,"rooms":[...],"target":[...]}
//   {"cmd":"disconnectSockets","id":1,"rooms":[...],"close":true}
//   {"cmd":"serverSideEmit","id":1,"args":[...],"ack":true,"timeout":3000}
//   {"cmd":"remoteSocket","id":1,"socket":"<id>","join":"room","event":"x","args":[...],"timeout":2000}
//   {"cmd":"serverCount","id":1}   {"cmd":"allRooms","id":1}   {"cmd":"exit"}
// Events: ready {port}, server-side {args, withAck}, connection {id}, result {id, ...}
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient, createCluster } from "redis";
import { createInterface } from "node:readline";
import { toWire, fromWire } from "./wire.mjs";

const [port, redisUrl, key, name = "node", mode = "classic", csr = ""] = process.argv.slice(2);
const out = (ev, more = {}) => process.stdout.write(JSON.stringify({ ev, ...more }) + "\n");
const watchdog = setTimeout(() => {
  out("timeout");
  process.exit(3);
}, 120000);

// cluster://host:port,host:port,... is a Redis Cluster (node-redis's cluster client).
const pub = redisUrl.startsWith("cluster://")
  ? createCluster({ rootNodes: redisUrl.slice("cluster://".length).split(",").map((a) => ({ url: "redis://" + a })) })
  : createClient({ url: redisUrl });
const sub = pub.duplicate();
pub.on("error", (e) => out("redis-error", { message: String(e.message) }));
sub.on("error", (e) => out("redis-error", { message: String(e.message) }));
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = createServer();
const adapter =
  mode === "sharded"
    ? createShardedAdapter(pub, sub, { channelPrefix: key })
    : mode === "streams"
      ? createStreamsAdapter(pub, { streamName: key, channelPrefix: key })
      : createAdapter(pub, sub, { key, requestsTimeout: 3000 });
const io = new Server(httpServer, {
  adapter,
  ...(csr === "csr" ? { connectionStateRecovery: { maxDisconnectionDuration: 60000 } } : {}),
});

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
  async allRooms() {
    if (mode !== "classic") return { rooms: [] };
    return { rooms: [...(await io.of("/").adapter.allRooms())] };
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
    await Promise.race([Promise.all([pub.quit(), sub.quit()]), new Promise((r) => setTimeout(r, 500))]);
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
