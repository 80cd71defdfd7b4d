/**
 * The benchmark's client-side stopwatch, run inside the client namespace:
 *
 *   node knock-probe.js JSON
 *
 * It sends a legitimate knock exactly as the real client would put it on the wire, takes t0 just
 * before the LAST packet leaves (the last SYN of a sequence, or the one SPA datagram), then starts a
 * fresh non-blocking TCP connect to the protected port every `intervalMs` (each a new socket;
 * attempts older than `holdMs` are destroyed, which sends nothing from SYN_SENT) until one
 * completes its handshake. Latency = the moment the handshake is seen complete − t0.
 *
 * Knocks (all built here, with the project's own client code, right before t0):
 *   { kind: 'tcp', ports: [...] }       one SYN per port as knock(1) and `knockgate knock` send them:
 *                                       a non-blocking connect(2), abandoned once the SYN is out
 *   { kind: 'native', credential }      one native SPA datagram (buildSpaDatagram, address null:
 *                                       grant the packet's source), as `knockgate knock` sends it
 *   { kind: 'fwknop', credential, allowIp }   one fwknop packet (buildFwknopPacket: what fwknop -A
 *                                       tcp/22 -a ALLOWIP sends), to the credential's port
 *   { kind: 'none' }                    no knock: only "does the port answer?" (closed check)
 *
 * Prints one JSON line: { opened, latencyMs, attempts, knockAtEpochMs, error? } and exits 0;
 * opened is false when nothing connected before giveUpMs (or deadlineEpochMs) ran out.
 * Before t0 the probe warms its own connect and send paths on loopback (see warmUpConnects), so
 * that the stopwatch measures the subject, not a fresh node process's first socket calls.
 * Bounded: at most giveUpMs / intervalMs attempts, at most holdMs / intervalMs + 1 sockets alive.
 */

import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, Socket } from 'node:net';
import { buildFwknopPacket, readFwknopCredential } from '../src/client/fwknop-sender.js';
import { buildSpaDatagram } from '../src/client/spa-sender.js';
import { readClientCredential } from '../src/stores/key-files.js';

export type ProbeKnock =
  | { readonly kind: 'tcp'; readonly ports: readonly number[] }
  | { readonly kind: 'native'; readonly credential: string; readonly port: number }
  | { readonly kind: 'fwknop'; readonly credential: string; readonly allowIp: string }
  | { readonly kind: 'none' };

export interface ProbeRequest {
  readonly host: string;
  readonly openPort: number;
  readonly knock: ProbeKnock;
  readonly giveUpMs: number;
  /** Give up at this wall-clock time too, if earlier (a flood window's end). */
  readonly deadlineEpochMs?: number;
  readonly intervalMs?: number;
  readonly holdMs?: number;
}

export interface ProbeResult {
  readonly opened: boolean;
  readonly latencyMs: number | null;
  readonly attempts: number;
  readonly knockAtEpochMs: number;
  readonly error?: string;
}

const MAX_GIVE_UP_MS = 60_000;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for ms (sub-millisecond), without spinning a core. */
const pause = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms);

/**
 * Before t0: complete WARM_UP_CONNECTS handshakes with a server of our own on this namespace's
 * loopback, so that the measured connects run code that is already loaded and compiled. Without
 * it, the first connect of a fresh node process alone takes ~5 ms on the bench machine (measured
 * against a port that was already open), which hid every subject's real latency under the
 * stopwatch's own start-up. Nothing of it leaves the client namespace: no subject sees it.
 */
const WARM_UP_CONNECTS = 50;
async function warmUpConnects(family: 4 | 6): Promise<void> {
  const host = family === 6 ? '::1' : '127.0.0.1';
  const server = createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  for (let i = 0; i < WARM_UP_CONNECTS; i++) {
    await new Promise<void>((resolve) => {
      const s = new Socket();
      s.on('error', () => resolve());
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.connect({ host, port });
    });
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * The same for `sock.send` (the SPA datagram's path through dgram and libuv): WARM_UP_SENDS
 * datagrams to a socket of our own on loopback, each waited for, before t0.
 */
const WARM_UP_SENDS = 50;
async function warmUpSends(sock: DgramSocket, family: 4 | 6): Promise<void> {
  const host = family === 6 ? '::1' : '127.0.0.1';
  const sink = createSocket(family === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((r) => sink.bind(0, host, r));
  const port = sink.address().port;
  const payload = Buffer.alloc(200);
  for (let i = 0; i < WARM_UP_SENDS; i++) {
    await new Promise<void>((resolve) => {
      sink.once('message', () => resolve());
      sock.send(payload, port, host);
    });
  }
  sink.close();
}

/** One SYN, as knock(1) sends it: connect(2) on a non-blocking socket, then close. */
function synStart(host: string, port: number): Socket {
  const s = new Socket();
  s.on('error', () => undefined);
  s.connect({ host, port });
  return s;
}

async function main(): Promise<ProbeResult> {
  const req = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
  const intervalMs = Math.min(Math.max(req.intervalMs ?? 0.5, 0.1), 5);
  const holdMs = Math.min(Math.max(req.holdMs ?? 25, 1), 1000);
  const giveUpMs = Math.min(Math.max(req.giveUpMs, 0), MAX_GIVE_UP_MS);
  const family = req.host.includes(':') ? 'udp6' : 'udp4';
  const k = req.knock;

  // Everything that costs time is done before t0: packets built, sockets bound.
  let lastSend: () => void = () => undefined;
  let cleanup: () => void = () => undefined;
  if (k.kind === 'tcp') {
    const first = k.ports.slice(0, -1);
    for (const p of first) {
      const s = synStart(req.host, p);
      await tick();
      await tick();
      s.destroy();
    }
    const last = k.ports[k.ports.length - 1] as number;
    let s: Socket | undefined;
    lastSend = () => {
      s = synStart(req.host, last);
    };
    cleanup = () => s?.destroy();
  } else if (k.kind === 'native' || k.kind === 'fwknop') {
    let datagram: Uint8Array;
    let port: number;
    if (k.kind === 'native') {
      datagram = buildSpaDatagram(
        readClientCredential(k.credential),
        { ports: [], durationS: 0, address: null, prefix: 0 },
        Date.now(),
      );
      port = k.port;
    } else {
      const cred = readFwknopCredential(k.credential);
      datagram = buildFwknopPacket(cred, k.allowIp, [{ proto: 'tcp', port: req.openPort }], 0, Date.now());
      port = cred.port;
    }
    const sock = createSocket(family);
    await new Promise<void>((r) => sock.bind(0, r));
    await warmUpSends(sock, family === 'udp6' ? 6 : 4);
    lastSend = () => sock.send(datagram, port, req.host);
    cleanup = () => setTimeout(() => sock.close(), 50);
  }

  await warmUpConnects(family === 'udp6' ? 6 : 4);
  const knockAtEpochMs = Date.now();
  const t0 = performance.now();
  lastSend();
  let deadline = t0 + giveUpMs;
  if (req.deadlineEpochMs !== undefined) deadline = Math.min(deadline, t0 + (req.deadlineEpochMs - knockAtEpochMs));

  let connectedAt = -1;
  let attempts = 0;
  const live: { s: Socket; t: number }[] = [];
  const attempt = (): void => {
    const s = new Socket();
    live.push({ s, t: performance.now() });
    attempts++;
    s.on('error', () => undefined);
    s.once('connect', () => {
      if (connectedAt < 0) connectedAt = performance.now();
      s.destroy();
    });
    s.connect({ host: req.host, port: req.openPort });
  };
  while (connectedAt < 0 && performance.now() < deadline) {
    attempt();
    const now = performance.now();
    while (live.length > 0 && now - (live[0] as { t: number }).t > holdMs) live.shift()?.s.destroy();
    await tick(); // connect(2) for the new socket, and any completed handshake, are handled here
    if (connectedAt >= 0) break;
    pause(intervalMs);
    await tick();
  }
  for (const { s } of live) s.destroy();
  cleanup();
  return {
    opened: connectedAt >= 0,
    latencyMs: connectedAt >= 0 ? Math.round((connectedAt - t0) * 1000) / 1000 : null,
    attempts,
    knockAtEpochMs,
  };
}

main().then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    setTimeout(() => process.exit(0), 60);
  },
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ opened: false, latencyMs: null, attempts: 0, knockAtEpochMs: Date.now(), error: String(err) })}\n`,
    );
    process.exit(0);
  },
);
