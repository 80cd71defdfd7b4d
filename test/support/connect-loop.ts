/**
 * Tries to connect again and again for a while, to catch a port that is open for a moment:
 *
 *   node connect-loop.js HOST PORT DURATION_MS
 *
 * Every 10 ms a new TCP connection is started (each abandoned after 200 ms); prints one JSON line
 * { attempts, connected } at the end, `connected` counting those that completed the handshake.
 */

import { Socket } from 'node:net';

const [, , host, portText, durationText] = process.argv;
if (!host || !portText || !durationText) {
  process.stderr.write('usage: connect-loop HOST PORT DURATION_MS\n');
  process.exit(64);
}
const port = Number(portText);
let attempts = 0;
let connected = 0;
const timer = setInterval(() => {
  attempts++;
  const s = new Socket();
  s.setTimeout(200, () => s.destroy());
  s.on('connect', () => {
    connected++;
    s.destroy();
  });
  s.on('error', () => undefined);
  s.connect({ host, port });
}, 10);
setTimeout(() => {
  clearInterval(timer);
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ attempts, connected })}\n`);
    process.exit(0);
  }, 300);
}, Number(durationText));
