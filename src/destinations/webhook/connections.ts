import { Client } from 'undici';

/**
 * Keep-alive connections to one origin, one per grant lane in flight: a lane takes a connection
 * for the whole of its turn, so its pipelined requests share one socket (and therefore one order)
 * and never interleave with another lane's failures. Connections are reused across writes.
 */
export class ConnectionPool {
  private readonly idle: Client[] = [];
  private readonly all = new Set<Client>();

  constructor(
    private readonly origin: string,
    private readonly options: Client.Options,
  ) {}

  acquire(): Client {
    const reused = this.idle.pop();
    if (reused) return reused;
    const client = new Client(this.origin, this.options);
    this.all.add(client);
    return client;
  }

  release(client: Client): void {
    if (client.destroyed || client.closed) this.all.delete(client);
    else this.idle.push(client);
  }

  async close(): Promise<void> {
    const clients = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(clients.map((c) => c.close().catch(() => c.destroy())));
  }
}
