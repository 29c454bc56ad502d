import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service, so a test can take the service "down" for one
 * client without touching the service other tests share:
 * - `cut()` drops every connection and refuses new ones (connection refused, as from a
 *   stopped broker); `restore()` listens again on the same port.
 * - `dropConnections()` cuts the connections of the moment but keeps accepting new ones.
 * - `silence(true)` swallows everything the service sends back: the client hears nothing.
 */
export class TcpProxy {
  /** Listens on 127.0.0.1:`port` (default: any free port). */
  static async start(targetHost: string, targetPort: number, port = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.listen(port);
    return proxy;
  }

  private server: Server;
  private readonly sockets = new Set<Socket>();
  private silent = false;
  private boundPort = 0;
  private listening = false;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = this.createServer();
  }

  get port(): number {
    return this.boundPort;
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  silence(on: boolean): void {
    this.silent = on;
  }

  /** Stops listening and drops every connection: the service looks stopped. */
  async cut(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  /** Listens again on the same port after `cut()`. */
  async restore(): Promise<void> {
    if (this.listening) return;
    this.server = this.createServer();
    await this.listen(this.boundPort);
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private createServer(): Server {
    return createServer((client) => this.relay(client));
  }

  private listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.boundPort = (this.server.address() as AddressInfo).port;
        this.listening = true;
        resolve();
      });
    });
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!this.silent) client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }
}
