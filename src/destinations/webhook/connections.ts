import { Client } from 'undici';

/**
 * Keep-alive connections to one origin, one per grant lane in flight: a lane takes a connection
 * for the whole of its turn, so its pipelined requests share one socket (and therefore one order)
 * and never interleave with another lane's failures. Connections are reused across writes, and at
 * most `max` exist at once across every concurrent write of the writer (the main window's batches
 * and hold retries): a lane waits for a free one rather than opening more sockets.
 */
export class ConnectionPool {
  private readonly idle: Client[] = [];
  private readonly all = new Set<Client>();
  private readonly waiting: ((c: Client) => void)[] = [];

  constructor(
    private readonly origin: string,
    private readonly options: Client.Options,
    private readonly max: number,
  ) {}

  async acquire(): Promise<Client> {
    const reused = this.idle.pop();
    if (reused) return reused;
    if (this.all.size < this.max) {
      const client = new Client(this.origin, this.options);
      this.all.add(client);
      return client;
    }
    return new Promise<Client>((resolve) => this.waiting.push(resolve));
  }

  release(client: Client): void {
    if (client.destroyed || client.closed) {
      this.all.delete(client);
      const next = this.waiting.shift();
      if (next) void this.acquire().then(next);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(client);
    else this.idle.push(client);
  }

  async close(): Promise<void> {
    const clients = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(clients.map((c) => c.close().catch(() => c.destroy())));
  }
}
