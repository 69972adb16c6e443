// The Node reference server of the benchmarks: npm socket.io with default
// options, exposing the same events and HTTP control endpoints as the Go
// reference server (bench/cmd/goserver).
//
//   'echo' (with ack)   answers the ack with the argument
//   'msg'               emits 'msg' back to the sender with the argument
//   GET /stats          {"heap": bytes, "sockets": n} after a full GC
//   GET /servers        the number of servers of the cluster (1 alone)
//   GET /bcast?n=&size= emits n events 'b' of a size-byte string to everyone,
//                       answers the milliseconds spent in the emit loop
//   GET /quit           exits
//
// Usage: node --expose-gc server.mjs   (prints "127.0.0.1:<port>" on stdout)
//
// It joins a cluster through one adapter, with its default options but for
// the channel prefix (BENCH_PREFIX, PostgreSQL only):
//
//   BENCH_REDIS=host:port  @socket.io/redis-adapter on node-redis, BENCH_ADAPTER
//                          choosing sharded (createShardedAdapter, the default)
//                          or classic (createAdapter)
//   BENCH_POSTGRES=DSN     @socket.io/postgres-adapter on a pg Pool
//
// (NATS has no Node adapter.) Without either it is a single server.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import pg from 'pg';
import { createClient } from 'redis';

async function redisAdapter(addr, kind) {
  const pub = createClient({ url: `redis://${addr}` });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err) => console.error('redis:', err.message));
  await Promise.all([pub.connect(), sub.connect()]);
  switch (kind) {
    case 'sharded':
      return createShardedAdapter(pub, sub);
    case 'classic':
      return createAdapter(pub, sub);
  }
  throw new Error(`BENCH_ADAPTER=${kind}: want sharded or classic`);
}

async function postgresAdapter(dsn, prefix) {
  const pool = new pg.Pool({ connectionString: dsn });
  pool.on('error', (err) => console.error('postgres:', err.message));
  // Fail at start, as the Go server does, when the database does not answer.
  await pool.query('SELECT 1');
  return createPostgresAdapter(pool, prefix ? { channelPrefix: prefix } : {});
}

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
    case '/servers':
      io.of('/').adapter.serverCount().then(
        (n) => res.end(String(n)),
        (err) => {
          res.statusCode = 503;
          res.end(String(err));
        },
      );
      return;
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

const opts = {};
if (process.env.BENCH_REDIS && process.env.BENCH_POSTGRES) throw new Error('give one of BENCH_REDIS and BENCH_POSTGRES');
if (process.env.BENCH_REDIS) opts.adapter = await redisAdapter(process.env.BENCH_REDIS, process.env.BENCH_ADAPTER || 'sharded');
if (process.env.BENCH_POSTGRES) opts.adapter = await postgresAdapter(process.env.BENCH_POSTGRES, process.env.BENCH_PREFIX);
const io = new Server(http, opts);
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
