// A Node server for the cluster example: socket.io 4.8 with the official
// classic Redis adapter, on the same Redis and key as the Go servers.
//
//   npm ci && node server.mjs [port] [redis-url]
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const port = Number(process.argv[2] || 3003);
const url = process.argv[3] || "redis://127.0.0.1:6379";
const pub = createClient({ url });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

const io = new Server(createServer().listen(port, "127.0.0.1"), {
  adapter: createAdapter(pub, sub),
  cors: { origin: "*" },
});
io.on("connection", (socket) => {
  socket.data = { server: "node-1" };
  socket.on("chat", (text) => io.emit("chat", { from: socket.id, via: "node-1", text }));
  socket.on("who", async (ack) => {
    const sockets = await io.fetchSockets();
    if (typeof ack === "function") ack(sockets.map((s) => ({ id: s.id, data: s.data })));
  });
});
io.on("hello", (from, ack) => {
  console.log("hello from", from);
  if (typeof ack === "function") ack("node-1");
});
console.log(`node-1 listening on http://127.0.0.1:${port}, ${await io.of("/").adapter.serverCount()} servers`);
