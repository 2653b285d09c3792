// The floor: a pass-through proxy on undici with no audit at all.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Agent } from 'undici';
import { announce, serveStats } from './child-stats.js';

const upstream = new URL(process.env.BENCH_UPSTREAM!);
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
const server = createServer((req, res) => {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = v;
  }
  agent
    .request({
      origin: upstream.origin,
      path: upstream.pathname.replace(/\/v1$/, '') + (req.url ?? '/'),
      method: req.method ?? 'GET',
      headers,
      body: req,
    })
    .then(async (r) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers))
        if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding')
          out[k] = v;
      res.writeHead(r.statusCode, out);
      await pipeline(r.body, res);
    })
    .catch(() => res.destroy());
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  serveStats();
  announce((server.address() as AddressInfo).port);
});
