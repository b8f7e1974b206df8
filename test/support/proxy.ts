import http from 'node:http';

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  acceptEncoding: string | undefined;
  /** The upstream response's Content-Encoding, once it answered. */
  responseEncoding?: string;
}

export type Answer = { status: number; body: unknown; contentType?: string } | 'reset' | null;
export type Intercept = (req: http.IncomingMessage, n: number) => Answer;

/**
 * An HTTP proxy on 127.0.0.1 in front of a real server (Elasticsearch, S3). It forwards every
 * request unchanged (Host included, so S3 signatures still verify), except those `intercept`
 * answers itself or resets: faults a real server will not produce on demand.
 */
export async function startProxy(target: string, intercept: Intercept = () => null) {
  const upstream = new URL(target);
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const request: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      acceptEncoding: req.headers['accept-encoding'],
    };
    seen.push(request);
    const answer = intercept(req, seen.length);
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    if (answer) {
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': answer.contentType ?? 'application/json',
        'x-elastic-product': 'Elasticsearch',
      });
      // The request body is drained first, as a real server would, so the client sees the answer.
      req.resume();
      req.on('end', () => res.end(text));
      return;
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        request.responseEncoding = up.headers['content-encoding'];
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
