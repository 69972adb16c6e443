// Generates testdata/golden.json: packets encoded by npm's
// socket.io-msgpack-parser, as its peers build them.
//
// usage (from the interop folder, where the npm packages are installed):
//   node ../parser/msgpack/testdata/golden.cjs > ../parser/msgpack/testdata/golden.json
"use strict";
const { createRequire } = require("node:module");
const req = createRequire(process.cwd() + "/");
const parser = req("socket.io-msgpack-parser");

const many = {};
for (let i = 0; i < 17; i++) many["k" + i] = i;
const vectors = [
  // socket.io-client: connect with auth (keys type, data, nsp).
  ["connect_auth", { type: 0, data: { token: "abc", n: 1 }, nsp: "/" }],
  // socket.io-client without auth: data is undefined (fixext 1 type 0).
  ["connect_no_auth", { type: 0, data: undefined, nsp: "/admin" }],
  // socket.io server's reply: pid is undefined without connection recovery.
  ["connect_reply", { type: 0, data: { sid: "AbC123-_", pid: undefined }, nsp: "/" }],
  // Our encoder's key order (type, data, nsp): byte-identical expected.
  ["connect_reply_exact", { type: 0, data: { sid: "AbC123-_" }, nsp: "/" }],
  // socket.io-client emit: options {compress} is encoded too.
  ["event_client", {
    type: 2,
    data: ["echo", 1, "two", { three: [true, false] }, "日本語 — ß 😀", null, 2.5, -7, 0.1, -1.5e-7, 1e300,
      127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 9007199254740991, -32, -33, -128, -129, -32768, -32769,
      -2147483648, -2147483649, -9007199254740991, { nested: { deep: ["x"] } }],
    options: { compress: true },
    nsp: "/",
  }],
  ["event_ack_nsp", { type: 2, data: ["whoami", "a\"b\\c\n\u0001"], id: 7, nsp: "/admin" }],
  ["event_numeric_name", { type: 2, data: [42, "x"], nsp: "/" }],
  ["event_long", { type: 2, data: ["long", "s".repeat(40), "t".repeat(300), many, Array.from({ length: 20 }, (_, i) => i)], nsp: "/" }],
  // socket.io server's ack: keys id, type, data, nsp.
  ["ack_server", { id: 7, type: 3, data: [{ ok: true, list: [1, "2"] }], nsp: "/admin" }],
  ["ack_exact", { type: 3, data: [], id: 9007199254740991, nsp: "/" }],
  ["binary_nested", {
    type: 2,
    data: ["upload", { name: "f", file: { chunks: [Buffer.from([1, 2, 3]), "x", { deep: { b: Buffer.alloc(0) } }] } }, Buffer.alloc(300, 7)],
    nsp: "/",
  }],
  ["binary_ack", { type: 3, data: [Buffer.from("hi"), { b: Buffer.from([255]) }], id: 3, nsp: "/" }],
  // Node's notepack writes an ArrayBuffer as ext 0.
  ["arraybuffer", { type: 2, data: ["ab", new Uint8Array([9, 8]).buffer], nsp: "/" }],
  ["date_undefined", { type: 2, data: ["d", new Date(86400000 + 1), undefined, { a: undefined, b: 1 }], nsp: "/" }],
  ["connect_error", { type: 4, data: { message: "Not authorized", data: { reason: "no token" } }, nsp: "/private" }],
  ["connect_error_string", { type: 4, data: "Invalid namespace", nsp: "/nope" }],
  ["disconnect", { type: 1, nsp: "/admin" }],
];
const enc = new parser.Encoder();
const out = vectors.map(([name, p]) => {
  const [buf] = enc.encode(p);
  // Check the npm decoder accepts it.
  const dec = new parser.Decoder();
  dec.on("decoded", () => {});
  dec.add(buf);
  return { name, hex: Buffer.from(buf).toString("hex") };
});
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
