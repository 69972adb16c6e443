// The official socket.io server, for the tests of the socketio CLI
// (cmd/socketio). cmd/socketio/cli_test.go runs the same application on our
// server.
//
// usage: node cli-server.mjs
//
// Listens on 127.0.0.1 on a free port and prints JSON lines: listening
// {port}, connection {nsp,id,auth,query}, event {nsp,name,args},
// answered {nsp,args} / answered {nsp,error}. Ends when stdin closes.
//
// Namespaces "/" and "/admin"; on connection the server emits, in order:
//   "welcome" {nsp, id, auth, query, header}   query: the handshake query (k -> v),
//                                             header: the X-Cli-Test request header
//   "news" "hello", 42
//   "bin" <Buffer 00 01 02 ff>, {"name": "blob"}
//   when the query has ask=1: "question" 7 with an ack, then
//     "answered" {args} (the client's answer) or {error}
// Events from the client:
//   "echo" (...args)           -> emit "echo-back" (...args)    (binary included)
//   "ack" (...args, cb)        -> cb(...args)
//   "sum" (a, b, cb)           -> cb(a + b)
//   "whoami" (cb)              -> cb({id, nsp, transport})
//   "slow" (..., cb)           -> never answers
//   "server-disconnect"        -> socket.disconnect()
//   anything                   -> printed as an event line
// Namespace "/private": refused unless auth.token === "secret", with
// Error("not authorized") and data {reason: "no token"}.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { toWire } from "./wire.mjs";

const out = (ev, more = {}) => process.stdout.write(JSON.stringify({ ev, ...more }) + "\n");

const httpServer = createServer();
const io = new Server(httpServer, { maxHttpBufferSize: 1e7 });

const setup = (nsp) => {
  nsp.on("connection", (socket) => {
    const hs = socket.handshake;
    const query = Object.fromEntries(
      Object.entries(hs.query).filter(([k]) => !["EIO", "transport", "t", "sid", "j", "b64"].includes(k)),
    );
    const info = { nsp: nsp.name, id: socket.id, auth: hs.auth, query, header: hs.headers["x-cli-test"] ?? null };
    out("connection", info);
    socket.onAny((name, ...args) => {
      if (typeof args[args.length - 1] === "function") args = args.slice(0, -1);
      out("event", { nsp: nsp.name, name, args: toWire(args) });
    });
    socket.emit("welcome", info);
    socket.emit("news", "hello", 42);
    socket.emit("bin", Buffer.from([0, 1, 2, 255]), { name: "blob" });
    if (hs.query.ask === "1") {
      socket.timeout(5000).emit("question", 7, (err, ...answer) => {
        out("answered", err ? { nsp: nsp.name, error: err.message } : { nsp: nsp.name, args: toWire(answer) });
      });
    }
    socket.on("echo", (...a) => socket.emit("echo-back", ...a));
    socket.on("ack", (...a) => {
      const cb = a.pop();
      if (typeof cb === "function") cb(...a);
    });
    socket.on("sum", (a, b, cb) => cb(a + b));
    socket.on("whoami", (cb) => cb({ id: socket.id, nsp: nsp.name, transport: socket.conn.transport.name }));
    socket.on("server-disconnect", () => socket.disconnect());
  });
};
setup(io.of("/"));
setup(io.of("/admin"));
const priv = io.of("/private");
priv.use((socket, next) => {
  if (socket.handshake.auth?.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { reason: "no token" };
  next(err);
});
setup(priv);

httpServer.listen(0, "127.0.0.1", () => out("listening", { port: httpServer.address().port }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
