/**
 * A knock as a careless client makes it: a plain connect() per step that is never abandoned, so
 * the kernel keeps resending each SYN (after 1 s, 3 s, ...) while the next steps go out, with
 * DELAY_MS between steps. Usage: node slow-knock.js HOST DELAY_MS PORT [PORT ...]
 */

import { Socket } from 'node:net';

const [, , host, delayText, ...ports] = process.argv;
const sockets: Socket[] = [];
for (const port of ports) {
  const s = new Socket();
  s.on('error', () => undefined);
  s.connect({ host: host as string, port: Number(port) });
  sockets.push(s);
  await new Promise((r) => setTimeout(r, Number(delayText)));
}
for (const s of sockets) s.destroy();
