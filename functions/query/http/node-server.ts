import http from 'node:http';
import type { HttpResponse, createApi } from './api.js';
import { DEFAULT_MAX_BODY_BYTES } from './api.js';

/** The local query API: node's own HTTP server around the same handler Lambda runs. */
export async function startServer(
  handle: ReturnType<typeof createApi>,
  options: { port: number; host: string; maxBodyBytes?: number },
): Promise<{ url: string; close: () => Promise<void> }> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = http.createServer((req, res) => {
    const controller = new AbortController();
    // The caller went away: stop its queries.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', async () => {
      let out: HttpResponse;
      if (tooLarge) {
        out = {
          status: 413,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ error: `request body over ${limit} bytes` }),
        };
      } else {
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        out = await handle(
          {
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            headers,
            body: chunks.length ? Buffer.concat(chunks).toString('utf8') : null,
          },
          controller.signal,
        );
      }
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(options.port, options.host, resolve),
  );
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
