/**
 * A stand-in for a protected service: listens on TCP ports (IPv4 and IPv6) and greets every
 * connection with an SSH-style banner, so a probe can tell "open" from "filtered" beyond doubt.
 * Usage: node banner-server.js PORT [PORT ...]
 */

import { createServer } from 'node:net';

export const BANNER = 'SSH-2.0-knockgate-standin\r\n';

const ports = process.argv.slice(2).map(Number);
for (const port of ports) {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(BANNER);
  });
  server.listen({ port, host: '::', ipv6Only: false }, () => process.stdout.write(`listening ${port}\n`));
}
