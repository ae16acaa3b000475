// A TCP proxy on loopback that gives a connection the round trip of a real network: the connection is "open" one
// round trip after connect (the SYN, SYN-ACK), and every byte takes half a round trip each way. On loopback every
// call costs ~0 ms of network, so work that overlaps the network (or fails to) would not show; behind this it does.
// TLS passes through untouched: the proxy only moves bytes.
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  host: string;
  port: number;
  stop: () => Promise<void>;
}

/** Proxies to `target` (host:port) with `roundTripMs` of delay; 0 forwards at once. */
export async function startDelayProxy(target: { host: string; port: number }, roundTripMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const openedAt = performance.now() + roundTripMs; // when the client could first send
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, roundTripMs / 2, openedAt);
    relay(upstream, client, roundTripMs / 2, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Moves `from`'s bytes to `to`, each chunk delivered `oneWayMs` after it was sent (and not before `notBefore`), in order. */
function relay(from: Socket, to: Socket, oneWayMs: number, notBefore: number): void {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as { at: number }).at <= now + 0.5) {
      const { chunk } = queue.shift() as { chunk: Buffer | null };
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, (queue[0] as { at: number }).at - now);
  };
  const push = (chunk: Buffer | null) => {
    if (oneWayMs <= 0 && notBefore <= performance.now() && queue.length === 0) {
      if (chunk === null) to.end();
      else to.write(chunk);
      return;
    }
    queue.push({ at: Math.max(performance.now(), notBefore) + oneWayMs, chunk });
    timer ??= setTimeout(drain, Math.max(0, (queue[0] as { at: number }).at - performance.now()));
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
}
