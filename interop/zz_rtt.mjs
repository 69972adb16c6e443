import { io } from "socket.io-client";
const url = process.argv[2];
for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
  const lats = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    const s = io(url, { forceNew: true, transports, retries: 1, ackTimeout: 1000 });
    await new Promise((res) => s.emit("echo", 1, () => { lats.push(performance.now() - t0); res(); }));
    s.disconnect();
  }
  lats.sort((a, b) => a - b);
  console.log(transports.join("+"), "first ack ms: p50", lats[10].toFixed(1), "max", lats[19].toFixed(1));
}
process.exit(0);
