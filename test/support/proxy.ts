import http from 'node:http';

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

export type Intercept = (req: http.IncomingMessage, n: number) => { status: number; body: unknown } | null;

/**
 * An HTTP proxy on 127.0.0.1 in front of the real Elasticsearch node. It forwards everything,
 * except what `intercept` answers itself: faults a real node will not produce on demand.
 */
export async function startProxy(target: string, intercept: Intercept = () => null) {
  const upstream = new URL(target);
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    const answer = intercept(req, seen.length);
    if (answer) {
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
      });
      res.end(JSON.stringify(answer.body));
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization; // the test node has no security; the header is only recorded
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
