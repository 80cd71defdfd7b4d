/**
 * Start-up time of the client, side by side with bare Node: how long `knockgate knock HOST` (SPA,
 * with a profile) takes from spawn to exit, and how long `knockgate connect HOST PORT` takes from
 * spawn to its SPA datagram arriving, against `node -e 0` from spawn to exit on the same machine in
 * the same run. The runs alternate (node, knock, connect, node, knock, connect, ...) so that a busy
 * moment of the machine weighs on all three alike; a few warm-up rounds are not counted.
 *
 * Contract: figures only, no assertions; not a test. Needs a build (it runs dist/src/cli/knockgate.cjs
 * with the node running it) and sends only to 127.0.0.1: a UDP socket of this process stands for the
 * server's SPA door, and the connect's TCP port is one nothing listens on (the child is ended as soon
 * as its knock arrives). Usage: npm run bench:startup [-- --runs N] [-- --knockgate FILE] (default
 * 40 rounds; FILE: another build's dist/src/cli/knockgate.cjs or .js, to compare).
 */

import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WARMUP_ROUNDS = 3;
const argAfter = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
/** This build's entry: it writes the key and the profile. */
const OWN_KNOCKGATE = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'knockgate.cjs');
/** --knockgate FILE: time another build's entry (e.g. a checkout of an older commit) instead. */
const KNOCKGATE = argAfter('--knockgate') ?? OWN_KNOCKGATE;
const ROUNDS = Number(argAfter('--runs') ?? 40);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--runs: a positive whole number');

const door = createSocket('udp4');
await new Promise<void>((resolve) => door.bind(0, '127.0.0.1', resolve));
const spaPort = door.address().port;
let onDatagram: (() => void) | undefined;
door.on('message', () => onDatagram?.());

// A profile named after the host, as a user would have one: XDG_CONFIG_HOME/knockgate/profiles/127.0.0.1.yaml.
const dir = mkdtempSync(join(tmpdir(), 'knockgate-startup-bench-'));
const env = { ...process.env, XDG_CONFIG_HOME: dir };
const profiles = join(dir, 'knockgate', 'profiles');
mkdirSync(profiles, { recursive: true });
const tool = (args: string[]): void => {
  const r = spawnSync(process.execPath, [OWN_KNOCKGATE, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`knockgate ${args.join(' ')}: ${r.stderr}`);
};
const serverKey = join(dir, 'server.key');
tool(['keygen', '-o', serverKey]);
const profile = join(profiles, '127.0.0.1.yaml');
tool([
  'add-client',
  'bench',
  '-k',
  serverKey,
  '--door',
  'bench',
  '--server',
  '127.0.0.1',
  '--port',
  String(spaPort),
  '-o',
  profile,
]);

type Case = { name: string; args: string[]; until: 'exit' | 'knock' };
const CASES: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], until: 'exit' },
  { name: 'knockgate knock 127.0.0.1', args: [KNOCKGATE, 'knock', '127.0.0.1'], until: 'exit' },
  // Port 9 on loopback: nothing listens, and the child is ended once its knock has arrived.
  {
    name: 'knockgate connect 127.0.0.1 9 (to its knock)',
    args: [KNOCKGATE, 'connect', '127.0.0.1', '9'],
    until: 'knock',
  },
];

/** Milliseconds from spawn to exit (status checked) or to the child's SPA datagram arriving. */
function timeOnce(c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
    const child = spawn(process.execPath, c.args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (c.until === 'knock') {
      onDatagram = () => {
        onDatagram = undefined;
        const ms = elapsed();
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      };
      child.once('exit', (code) => {
        if (onDatagram) reject(new Error(`${c.name} exited (${code}) before knocking: ${stderr}`));
      });
    } else {
      child.once('exit', (code) => {
        const ms = elapsed();
        if (code === 0) resolve(ms);
        else reject(new Error(`${c.name} exited ${code}: ${stderr}`));
      });
    }
  });
}

const times = CASES.map(() => [] as number[]);
for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  for (const [i, c] of CASES.entries()) {
    const ms = await timeOnce(c);
    if (round >= WARMUP_ROUNDS) times[i]?.push(ms);
  }
}
door.close();
rmSync(dir, { recursive: true, force: true });

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const stats = times.map((t) => {
  const s = [...t].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9) };
});
const base = stats[0]?.median ?? Number.NaN;
process.stdout.write(
  `startup-bench: ${ROUNDS} rounds (after ${WARMUP_ROUNDS} warm-up), node ${process.version}, ms from spawn\n`,
);
for (const [i, c] of CASES.entries()) {
  const s = stats[i];
  if (!s) continue;
  const f = (ms: number) => ms.toFixed(1).padStart(6);
  process.stdout.write(
    `${c.name.padEnd(46)} median ${f(s.median)}  p10 ${f(s.p10)}  p90 ${f(s.p90)}  ratio ${(s.median / base).toFixed(2)}x\n`,
  );
}
