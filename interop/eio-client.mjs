// Drives the official engine.io-client against a server under test.
//
// usage: node eio-client.mjs <url> <mode> <scenario>
//   mode:     websocket | polling | upgrade
//   scenario: echo | heartbeat | maxpayload | server-close | client-close
//
// Every event is printed as one JSON line on stdout; the Go test reads them.
// The process exits by itself (a watchdog ends it after 15 s).
import { Socket } from "engine.io-client";

const [url, mode, scenario] = process.argv.slice(2);
const transports = {
  websocket: ["websocket"],
  polling: ["polling"],
  upgrade: ["polling", "websocket"],
}[mode];
if (!url || !transports || !scenario) {
  console.error("usage: node eio-client.mjs <url> <websocket|polling|upgrade> <scenario>");
  process.exit(2);
}

const out = (ev, more = {}) => console.log(JSON.stringify({ ev, ...more }));
const watchdog = setTimeout(() => {
  out("timeout");
  process.exit(3);
}, 15000);
const finish = (code = 0) => {
  clearTimeout(watchdog);
  setTimeout(() => process.exit(code), 20);
};

const socket = new Socket(url, { transports, path: "/engine.io/" });
const wire = (data) =>
  typeof data === "string"
    ? { data, binary: false }
    : { data: Array.from(new Uint8Array(data)), binary: true };

let upgraded = mode !== "upgrade";
const whenReady = (fn) => {
  if (upgraded) fn();
  else socket.once("upgrade", () => fn());
};

socket.on("open", () => out("open", { transport: socket.transport.name, id: socket.id }));
socket.on("upgrade", (t) => {
  upgraded = true;
  out("upgrade", { transport: t.name });
});
socket.on("ping", () => out("ping"));
socket.on("message", (data) => out("message", wire(data)));
socket.on("close", (reason, desc) => {
  out("close", { reason, desc: desc ? String(desc.message || desc.description || desc) : "" });
  finish(0);
});
socket.on("error", (err) => out("error", { message: String(err && err.message) }));

const scenarios = {
  // Text (with multi-byte characters), binary and a burst that polling
  // batches into one payload; the server echoes each message.
  echo() {
    const expected = 7;
    let got = 0;
    socket.on("message", () => {
      if (++got === expected) socket.close();
    });
    socket.on("open", () => {
      socket.send("hello");
      whenReady(() => {
        socket.send("héllo — ß 日本");
        socket.send(new Uint8Array([1, 2, 3, 4]));
        socket.send("b1");
        socket.send("b2");
        socket.send("b3");
        socket.send(new Uint8Array([0, 255]));
      });
    });
  },
  // The server pings every 100 ms; stay for five pings.
  heartbeat() {
    let pings = 0;
    socket.on("ping", () => {
      if (++pings === 5) {
        out("still-open", { readyState: socket.readyState });
        socket.close();
      }
    });
  },
  // The server's MaxPayload is small; send more than it allows.
  maxpayload() {
    socket.on("open", () => whenReady(() => socket.send("x".repeat(5000))));
  },
  // Ask the server to close the session.
  "server-close"() {
    socket.on("open", () => whenReady(() => socket.send("close-me")));
  },
  // Close from the client once the session is ready.
  "client-close"() {
    socket.on("open", () =>
      whenReady(() => {
        socket.send("bye");
        setTimeout(() => socket.close(), 50);
      }),
    );
  },
};

if (!scenarios[scenario]) {
  console.error("unknown scenario " + scenario);
  process.exit(2);
}
scenarios[scenario]();
