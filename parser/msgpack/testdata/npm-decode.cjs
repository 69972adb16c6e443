// Decodes hex-encoded messages with npm's socket.io-msgpack-parser and prints
// each packet as a JSON line; binary values become {"$bin":"<base64>"}.
//
// usage (from the interop folder, where the npm packages are installed):
//   node ../parser/msgpack/testdata/npm-decode.cjs <name>=<hex> ...
"use strict";
const { createRequire } = require("node:module");
const req = createRequire(process.cwd() + "/");
const parser = req("socket.io-msgpack-parser");

const toWire = (v) => {
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  return v === undefined ? null : v;
};

for (const arg of process.argv.slice(2)) {
  const [name, hex] = arg.split("=");
  const dec = new parser.Decoder();
  let packet = null;
  dec.on("decoded", (p) => (packet = p));
  try {
    dec.add(Buffer.from(hex, "hex"));
    const out = { type: packet.type, nsp: packet.nsp };
    if (packet.id !== undefined) out.id = packet.id;
    if (packet.data !== undefined) out.data = toWire(packet.data);
    process.stdout.write(JSON.stringify({ ev: "decoded", name, packet: out }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ev: "error", name, message: String(e && e.message) }) + "\n");
  }
}
