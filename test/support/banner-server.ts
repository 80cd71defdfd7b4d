/**
 * A stand-in for a protected service: listens on TCP ports (IPv4 and IPv6) and greets every
 * connection with an SSH-style banner, so a probe can tell "open" from "filtered" beyond doubt.
 * Usage: node banner-server.js [--banner TEXT] PORT [PORT ...] (TEXT: another first line, so that
 * a test can tell two services apart).
 */

import { createServer } from 'node:net';

export const BANNER = 'SSH-2.0-knockgate-standin\r\n';

const args = process.argv.slice(2);
const text = args[0] === '--banner' ? `${args[1]}\r\n` : BANNER;
const ports = (args[0] === '--banner' ? args.slice(2) : args).map(Number);
for (const port of ports) {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(text);
  });
  server.listen({ port, host: '::', ipv6Only: false }, () => process.stdout.write(`listening ${port}\n`));
}
