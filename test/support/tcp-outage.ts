/**
 * A TCP pass-through to a service (here the DynamoDB endpoint) that can be taken down for a
 * while: open connections are cut and new ones refused, as when the store briefly becomes
 * unreachable. Then it comes back by itself.
 */
import * as net from 'node:net';

export interface TcpOutage {
  readonly endpoint: string;
  /** Cuts every connection and refuses new ones for `ms`. */
  outage(ms: number): void;
  readonly outages: number;
  close(): Promise<void>;
}

export const startTcpOutage = async (upstreamPort: number): Promise<TcpOutage> => {
  const open = new Set<net.Socket>();
  let downUntil = 0;
  let outages = 0;
  const server = net.createServer((client) => {
    if (Date.now() < downUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    outage(ms) {
      outages += 1;
      downUntil = Date.now() + ms;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    get outages() {
      return outages;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
};
