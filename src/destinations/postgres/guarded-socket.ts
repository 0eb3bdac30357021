import { Socket } from 'node:net';
import { ForbiddenDestinationError, type OutboundGuard } from '../../domain/net.js';

/**
 * The socket factory the destination's pg pool connects through (pg's `stream` option): every
 * connection first resolves its host with the shared outbound guard and connects to the checked
 * address, so a stream's connection string cannot reach loopback, private or metadata addresses
 * (the deployment's own database) unless the operator allows private destinations — and a DNS
 * answer that changes between check and connect cannot steer it there. A refused address fails
 * before any packet is sent, so errors say nothing about which local ports are open. Unix
 * sockets are local by definition and refused likewise. TLS still verifies the original host
 * name (pg upgrades with the host it was given).
 */
export function guardedStream(guard: OutboundGuard): () => Socket {
  return () => {
    const socket = new Socket();
    const original = socket.connect.bind(socket) as unknown as (target: { port: number; host: string } | string) => Socket;
    (socket as unknown as { connect: (port: number | string, host?: string) => Socket }).connect = (port, host) => {
      if (host === undefined || typeof port === 'string') {
        if (!guard.allowPrivate) {
          process.nextTick(() => socket.destroy(new ForbiddenDestinationError('a Unix-socket PostgreSQL connection is local; such destinations are refused unless the operator sets TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS')));
          return socket;
        }
        return original(String(port));
      }
      guard.resolve(host).then(
        (addresses) => original({ port: Number(port), host: addresses[0]!.address }),
        (err: unknown) => socket.destroy(err as Error),
      );
      return socket;
    };
    return socket;
  };
}
