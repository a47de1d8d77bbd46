/**
 * The floor for the receiver's throughput: the least a webhook endpoint on node:http can do. It
 * reads the whole body, parses the JSON and answers 204; no signature, no store, no hand-off.
 * Run as its own process (`node dist/scripts/bench/floor-server.js`), configured like the receiver
 * (PORT, default 0: any free port; HOST, default 127.0.0.1), and announces itself the way the
 * receiver does: one JSON line on standard error with `message: "listening on <url>"` and `url`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const log = (message: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', message, ...fields })}\n`);

// The same body reading as the receiver's server (chunks, one concat), so only the work after it differs.
const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });

export const startFloorServer = async (port: number, host: string): Promise<{ url: string; server: http.Server }> => {
  const server = http.createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      JSON.parse(body.toString('utf8'));
      res.writeHead(204);
      res.end();
    } catch {
      res.writeHead(400, { 'content-length': 0 });
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { url: `http://${address.address}:${address.port}/`, server };
};

if (require.main === module) {
  const port = Number(process.env.PORT ?? '0');
  startFloorServer(Number.isInteger(port) ? port : 0, process.env.HOST?.trim() || '127.0.0.1')
    .then(({ url, server }) => {
      log(`listening on ${url}`, { url, server: 'floor' });
      const stop = () => {
        server.close(() => process.exit(0));
        server.closeAllConnections();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((error: unknown) => {
      process.stderr.write(`The floor server stopped: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
