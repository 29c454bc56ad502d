import net from 'node:net';

/**
 * A TCP proxy in front of a real service, to take it "down" and bring it back without
 * touching the service other tests share: `cut()` drops every connection and refuses new
 * ones (connection refused, as from a stopped broker); `restore()` listens again on the
 * same port.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const listen = (p: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(port);
  const boundPort = (server.address() as net.AddressInfo).port;
  let listening = true;
  const cut = async (): Promise<void> => {
    if (listening) {
      listening = false;
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    }
  };
  return {
    port: boundPort,
    cut,
    async restore() {
      if (!listening) {
        await listen(boundPort);
        listening = true;
      }
    },
    close: cut,
  };
}
