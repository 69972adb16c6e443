// The official socket.io server, for the Go client's tests.
//
// usage: node sio-server.mjs <port> [--recovery] [--ping-interval=ms] [--ping-timeout=ms]
//
// Listens on 127.0.0.1:<port> and prints JSON lines: listening {port},
// connection {nsp,id,engine,recovered,auth}, disconnect {nsp,id,reason},
// refused {nsp,auth}. Ends on SIGTERM/SIGKILL or when stdin closes.
//
// Namespaces "/" and "/admin":
//   on connection: emit "welcome" {id, nsp, engine, recovered, auth}
//   "echo" (...args)            -> emit "echo-back" (...args)   (binary included)
//   "ack" (...args, cb)         -> cb(...args)
//   "ask" (name, ...args)       -> emit name (...args) with an ack; then emit "answer" ({args}|{error})
//   "whoami" (cb)               -> cb({id, nsp, engine, transport})
//   "flaky" (key, cb)           -> acks ("ok", n) from the 2nd call with the same key on
//   "count" (key, cb)           -> cb(number of "flaky" calls for key)
//   "server-disconnect"         -> socket.disconnect()
//   "kick-transport"            -> socket.conn.close(), then io.emit("missed", 1), ("missed", 2) after 100 ms
// Namespace "/private": a middleware refuses unless auth.token === "secret",
//   with Error("not authorized") and data {reason: "no token"}.
import { createServer } from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const port = Number(args[0]);
const flag = (name) => args.find((a) => a.startsWith(`--${name}`));
const num = (name, def) => {
  const f = flag(name);
  return f && f.includes("=") ? Number(f.split("=")[1]) : def;
};
const out = (ev, more = {}) => process.stdout.write(JSON.stringify({ ev, ...more }) + "\n");

const opts = {
  pingInterval: num("ping-interval", 25000),
  pingTimeout: num("ping-timeout", 20000),
  maxHttpBufferSize: 1e7,
};
if (flag("recovery")) {
  opts.connectionStateRecovery = { maxDisconnectionDuration: 60000, skipMiddlewares: true };
}
const httpServer = createServer();
const io = new Server(httpServer, opts);
const flaky = new Map();

const setup = (nsp) => {
  nsp.on("connection", (socket) => {
    const info = {
      nsp: nsp.name,
      id: socket.id,
      engine: socket.conn.id,
      recovered: socket.recovered,
      auth: socket.handshake.auth,
    };
    out("connection", info);
    socket.emit("welcome", info);
    socket.on("disconnect", (reason) => out("disconnect", { nsp: nsp.name, id: socket.id, reason }));
    socket.on("echo", (...a) => socket.emit("echo-back", ...a));
    socket.on("ack", (...a) => {
      const cb = a.pop();
      if (typeof cb === "function") cb(...a);
    });
    socket.on("ask", (name, ...a) => {
      socket.timeout(5000).emit(name, ...a, (err, ...answer) => {
        socket.emit("answer", err ? { error: err.message } : { args: answer });
      });
    });
    socket.on("whoami", (cb) =>
      cb({ id: socket.id, nsp: nsp.name, engine: socket.conn.id, transport: socket.conn.transport.name }),
    );
    socket.on("flaky", (key, cb) => {
      const n = (flaky.get(key) ?? 0) + 1;
      flaky.set(key, n);
      out("flaky", { key, n });
      if (n >= 2 && typeof cb === "function") cb("ok", n);
    });
    socket.on("count", (key, cb) => cb(flaky.get(key) ?? 0));
    socket.on("server-disconnect", () => socket.disconnect());
    socket.on("kick-transport", () => {
      socket.conn.close();
      setTimeout(() => {
        io.emit("missed", 1);
        io.emit("missed", 2);
        out("missed-sent");
      }, 100);
    });
  });
};
setup(io.of("/"));
setup(io.of("/admin"));
const priv = io.of("/private");
priv.use((socket, next) => {
  if (socket.handshake.auth?.token === "secret") return next();
  out("refused", { nsp: "/private", auth: socket.handshake.auth });
  const err = new Error("not authorized");
  err.data = { reason: "no token" };
  next(err);
});
setup(priv);

httpServer.listen(port, "127.0.0.1", () => out("listening", { port }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
