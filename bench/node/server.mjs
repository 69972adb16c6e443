// The Node reference server of the benchmarks: npm socket.io with default
// options, exposing the same events and HTTP control endpoints as the Go
// reference server (bench/cmd/goserver).
//
//   'echo' (with ack)   answers the ack with the argument
//   'msg'               emits 'msg' back to the sender with the argument
//   GET /stats          {"heap": bytes, "sockets": n} after a full GC
//   GET /bcast?n=&size= emits n events 'b' of a size-byte string to everyone,
//                       answers the milliseconds spent in the emit loop
//   GET /quit           exits
//
// Usage: node --expose-gc server.mjs   (prints "127.0.0.1:<port>" on stdout)
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  switch (url.pathname) {
    case '/stats': {
      if (global.gc) global.gc();
      const m = process.memoryUsage();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ heap: m.heapUsed + m.external, sockets: io.of('/').sockets.size }));
      return;
    }
    case '/bcast': {
      const n = Number(url.searchParams.get('n') || 1);
      const payload = 'x'.repeat(Number(url.searchParams.get('size') || 100));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) io.emit('b', payload);
      res.end(String(Number(process.hrtime.bigint() - t0) / 1e6)); // ms in the emit loop
      return;
    }
    case '/quit':
      res.end('bye');
      process.exit(0);
  }
  // socket.io answers its own path; anything else is not ours.
  if (!url.pathname.startsWith('/socket.io/')) {
    res.statusCode = 404;
    res.end();
  }
});

const io = new Server(http);
io.on('connection', (socket) => {
  socket.on('echo', (data, ack) => {
    if (typeof ack === 'function') ack(data);
  });
  socket.on('msg', (data) => socket.emit('msg', data));
});

http.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const a = http.address();
  process.stdout.write(`${a.address}:${a.port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
