// Drives official socket.io-client sockets on behalf of a Go test.
//
// usage: node sio-driver.mjs <base-url>
//
// Commands arrive as JSON lines on stdin; events leave as JSON lines on
// stdout. Binary values travel as {"$bin":"<base64>"} in both directions.
// The process ends when stdin closes, on the "exit" command, or after 60 s.
//
// Commands (every one names a client with "c"):
//   {"cmd":"connect","c":"a","nsp":"/","auth":{...},"transports":["websocket"],"query":{...},
//    "manager":"m1","reconnection":false,"parser":"msgpack",      parser: socket.io-msgpack-parser instead of the default
//    "extraHeaders":{"authorization":"Bearer x"}}                 sent with every HTTP request and the WebSocket upgrade
//   {"cmd":"emit","c":"a","event":"x","args":[...],"ack":true,"seq":1,"timeout":1000}
//   {"cmd":"reply","c":"a","event":"x","args":[...],"delay":0}   ack server events "x" with args
//   {"cmd":"disconnect","c":"a"}
//   {"cmd":"cut","c":"a"}                                          close the Engine.IO connection
//   {"cmd":"raw","c":"a","data":"..."}                             send an Engine.IO message as it is (bad packets)
//   {"cmd":"manager-open","manager":"m1","transports":[...]}     Engine.IO only, no namespace
//   {"cmd":"exit"}
// Events:
//   connect {c,id,pid,transport,recovered}                    pid: the recovery session id (when recovery is on)  connect_error {c,message,data}  disconnect {c,reason}
//   event {c,name,args}  ack {c,seq,args} / ack {c,seq,error}  upgrade {c,transport}
//   manager-close {manager,reason}  ready
import { io, Manager } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { createInterface } from "node:readline";
import { toWire, fromWire } from "./wire.mjs";

const base = process.argv[2];
const out = (ev, more = {}) => process.stdout.write(JSON.stringify({ ev, ...more }) + "\n");
const watchdog = setTimeout(() => {
  out("timeout");
  process.exit(3);
}, 60000);

const sockets = new Map();
const managers = new Map();
const replies = new Map(); // "c/event" -> {args, delay}

function manager(name, opts) {
  if (!name) return null;
  if (!managers.has(name)) {
    const m = new Manager(base, { ...opts, autoConnect: false });
    m.on("close", (reason) => out("manager-close", { manager: name, reason }));
    managers.set(name, m);
  }
  return managers.get(name);
}

const commands = {
  connect(cmd) {
    const opts = {
      transports: cmd.transports || ["polling", "websocket"],
      reconnection: cmd.reconnection ?? false,
      reconnectionDelay: cmd.reconnectionDelay ?? 1000,
      randomizationFactor: cmd.randomizationFactor ?? 0.5,
      forceNew: !cmd.manager,
      query: cmd.query,
      auth: cmd.auth,
      extraHeaders: cmd.extraHeaders,
      timeout: 5000,
    };
    if (cmd.parser === "msgpack") opts.parser = msgpackParser;
    const nsp = cmd.nsp || "/";
    const m = manager(cmd.manager, opts);
    const s = m ? m.socket(nsp, { auth: cmd.auth }) : io(base + (nsp === "/" ? "" : nsp), opts);
    sockets.set(cmd.c, s);
    let upgradeSeen = false;
    s.on("connect", () => {
      const eng = s.io.engine;
      out("connect", { c: cmd.c, id: s.id, pid: s._pid, transport: eng.transport.name, recovered: s.recovered });
      if (upgradeSeen) return;
      upgradeSeen = true;
      // The upgrade may finish before or after the CONNECT reply.
      if (eng.transport.name === "websocket") {
        if (opts.transports.length > 1) out("upgrade", { c: cmd.c, transport: "websocket" });
      } else {
        eng.once("upgrade", (t) => out("upgrade", { c: cmd.c, transport: t.name }));
      }
    });
    s.on("connect_error", (err) => out("connect_error", { c: cmd.c, message: err.message, data: toWire(err.data) }));
    s.on("disconnect", (reason) => out("disconnect", { c: cmd.c, reason }));
    s.onAny((name, ...args) => {
      let ack = null;
      if (args.length && typeof args[args.length - 1] === "function") ack = args.pop();
      out("event", { c: cmd.c, name, args: toWire(args), withAck: !!ack });
      const r = replies.get(cmd.c + "/" + name);
      if (ack && r) setTimeout(() => ack(...fromWire(r.args)), r.delay || 0);
    });
    if (m) s.connect();
  },
  emit(cmd) {
    const s = sockets.get(cmd.c);
    const args = fromWire(cmd.args || []);
    if (!cmd.ack) {
      (cmd.volatile ? s.volatile : s).emit(cmd.event, ...args);
      return;
    }
    s.timeout(cmd.timeout || 5000).emit(cmd.event, ...args, (err, ...res) => {
      if (err) out("ack", { c: cmd.c, seq: cmd.seq, error: String(err.message || err) });
      else out("ack", { c: cmd.c, seq: cmd.seq, args: toWire(res) });
    });
  },
  reply(cmd) {
    replies.set(cmd.c + "/" + cmd.event, { args: cmd.args || [], delay: cmd.delay || 0 });
    out("replying", { c: cmd.c, event: cmd.event });
  },
  disconnect(cmd) {
    sockets.get(cmd.c).disconnect();
  },
  // Close the Engine.IO connection under the socket, as a network cut
  // would: the Manager reconnects when reconnection is on.
  cut(cmd) {
    sockets.get(cmd.c).io.engine.close();
  },
  raw(cmd) {
    sockets.get(cmd.c).io.engine.send(cmd.data);
  },
  "manager-open"(cmd) {
    const m = manager(cmd.manager, { transports: cmd.transports, reconnection: false });
    m.open((err) => out("manager-open", { manager: cmd.manager, error: err ? String(err.message) : null }));
  },
  exit() {
    finish();
  },
};

function finish() {
  for (const s of sockets.values()) s.disconnect();
  for (const m of managers.values()) m.engine && m.engine.close();
  clearTimeout(watchdog);
  setTimeout(() => process.exit(0), 50);
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out("error", { message: "bad command: " + line });
    return;
  }
  const fn = commands[cmd.cmd];
  if (!fn) {
    out("error", { message: "unknown command " + cmd.cmd });
    return;
  }
  try {
    fn(cmd);
  } catch (e) {
    out("error", { message: String(e && e.stack) });
  }
});
rl.on("close", finish);
out("ready");
