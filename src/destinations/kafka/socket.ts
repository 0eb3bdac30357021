import { connect as netConnect, isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import { ForbiddenDestinationError, isForbiddenAddress, type OutboundGuard } from '../../domain/net.js';

const KEEP_ALIVE_MS = 60_000;

/**
 * kafkajs's `socketFactory`, through the outbound guard: every broker connection (the bootstrap
 * list and every broker the cluster's metadata names) resolves its host with the guard's pinned
 * lookup. Node skips `lookup` for IP literals, so those are checked here; a refused address
 * yields a socket that fails with the reason, which kafkajs reports as a connection error.
 */
export function guardedSocketFactory(guard: OutboundGuard): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const literal = isIP(host) !== 0;
    if (literal && !guard.allowPrivate && isForbiddenAddress(host)) {
      const refused = new Socket();
      const reason = `${host} is a private, loopback, link-local or metadata address; such destinations are refused unless the operator sets TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS`;
      process.nextTick(() => refused.destroy(new ForbiddenDestinationError(reason)));
      return refused;
    }
    const socket = ssl
      ? tlsConnect({ ...(literal ? {} : { servername: host }), ...ssl, host, port, lookup: guard.lookup }, onConnect)
      : netConnect({ host, port, lookup: guard.lookup }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    return socket;
  };
}
