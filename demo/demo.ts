/**
 * The demo: a narrated run of knockgate between network namespaces on this machine.
 *
 *   client ──veth── server (knockgated, stand-in sshd on 22/tcp) ──veth── bystander
 *
 * Everything it creates (namespaces, processes, the server's nftables table) is removed at the
 * end, on Ctrl-C, and on error. Options: --duration SECONDS (grant length, default 10).
 */

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { clientEntryYaml } from '../test/support/client-entry.js';
import { createTestbed, type Testbed } from '../test/support/netns.js';
import {
  BANNER_SERVER,
  KNOCKGATE,
  REPO_ROOT,
  knock,
  probe,
  sleep,
  startDaemon,
  writeConfig,
  type DaemonHandle,
} from '../test/support/daemon-process.js';

const SPA_TOOL = join(REPO_ROOT, 'dist', 'test', 'support', 'spa-tool.js');

/** Runs the knockgate CLI on the host (provisioning needs no namespace). */
function knockgate(args: string[]): string {
  const r = spawnSync(process.execPath, [KNOCKGATE, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`knockgate ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const SEQUENCE = [5643, 234, 6543, 6679, 35546, 192, 14];
const durationArg = process.argv.indexOf('--duration');
const DURATION_S = durationArg > 0 ? Number(process.argv[durationArg + 1]) : 10;
if (!Number.isInteger(DURATION_S) || DURATION_S < 2 || DURATION_S > 300) {
  process.stderr.write('demo: --duration takes whole seconds from 2 to 300\n');
  process.exit(64);
}

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string): void => void process.stdout.write(`\n${bold('==>')} ${s}\n`);
const show = (s: string): void => void process.stdout.write(`    ${s}\n`);

let tb: Testbed | undefined;
const cleanup = (): void => {
  if (tb) {
    tb.destroy();
    tb = undefined;
    show('cleaned up: namespaces, processes and firewall rules removed');
  }
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stdout.write('\n');
    cleanup();
    process.exit(130);
  });
}

function describe(what: string, r: ReturnType<typeof probe>): void {
  if (r.outcome === 'open') show(`${what}: OPEN, the service answered ${JSON.stringify((r.banner ?? '').trim())}`);
  else if (r.outcome === 'timeout')
    show(
      `${what}: FILTERED, no answer at all (no SYN-ACK, no RST, no ICMP${r.replies.length ? `; but saw ${r.replies.join(', ')}` : ''})`,
    );
  else show(`${what}: ${r.outcome.toUpperCase()} ${r.replies.join(', ')}`);
}

async function main(): Promise<void> {
  say('Building a small network: client, server and a bystander, each in its own network namespace');
  tb = createTestbed();
  const t = tb;
  show(`client     ${t.client.v4}  (namespace ${t.client.ns})`);
  show(`server     ${t.server.clientSide.v4} / ${t.server.otherSide.v4}  (namespace ${t.server.ns})`);
  show(`bystander  ${t.other.v4}  (namespace ${t.other.ns})`);

  say('Starting a stand-in SSH service on the server, port 22/tcp');
  t.start(t.server.ns, [process.execPath, BANNER_SERVER, '22']);
  await sleep(300);

  const configFile = writeConfig('');
  const dir = dirname(configFile);
  say('Provisioning SPA: the server key pair, and a client "laptop" with its own Ed25519 key pair');
  show(`$ knockgate keygen -o ${join(dir, 'server.key')}`);
  knockgate(['keygen', '-o', join(dir, 'server.key')]);
  show(`$ knockgate add-client laptop -k server.key --door ssh-spa --port 62201 -o laptop.yaml`);
  const added = knockgate([
    'add-client',
    'laptop',
    '-k',
    join(dir, 'server.key'),
    '--door',
    'ssh-spa',
    '--port',
    '62201',
    '-o',
    join(dir, 'laptop.yaml'),
  ]);

  const config = [
    `interfaces: [${t.server.clientSide.ifname}, ${t.server.otherSide.ifname}]`,
    'firewall: nftables',
    'audit_log: audit.jsonl',
    'spa:',
    '  server_key: server.key',
    '  replay_journal: replay.journal',
    'doors:',
    '  - name: ssh',
    `    sequence: [${SEQUENCE.join(', ')}]`,
    '    sequence_timeout: 10s',
    '    open: [22/tcp]',
    `    duration: ${DURATION_S}s`,
    '  - name: ssh-spa',
    '    spa: { port: 62201 }',
    '    open: [22/tcp]',
    `    duration: ${DURATION_S}s`,
    '    clients:',
    ...clientEntryYaml(added),
    '',
  ].join('\n');
  writeFileSync(configFile, config);
  say(`Starting knockgated on the server with this configuration (${configFile}):`);
  for (const line of config.trim().split('\n')) show(`  ${line}`);
  const daemon: DaemonHandle = await startDaemon(t, configFile);
  show('knockgated is ready: 22/tcp and the knock ports are now dropped for everyone without a grant');

  say('Before knocking, the client tries 22/tcp');
  describe('client -> 22/tcp', probe(t, t.client.ns, t.server.clientSide.v4, 22, 1500));

  say(`The client knocks: knockgate knock ${t.server.clientSide.v4} ${SEQUENCE.join(' ')}`);
  knock(t, t.client.ns, t.server.clientSide.v4, SEQUENCE);
  const grant = await daemon.waitFor((l) => l.event === 'grant', 5000, 'the grant');
  show(
    `knockgated logged: ${JSON.stringify({ event: grant.event, door: grant.door, source: grant.source, verdict: grant.verdict, ports: grant.ports, duration_s: grant.duration_s })}`,
  );
  show(
    `the kernel now holds: ${
      t
        .run(t.server.ns, ['nft', 'list', 'set', 'inet', 'knockgate', 'grants4'])
        .match(/elements = \{([^}]*)\}/)?.[1]
        ?.trim() ?? '(none)'
    }`,
  );

  say('Now the client tries 22/tcp again, and so does the bystander');
  describe('client -> 22/tcp', probe(t, t.client.ns, t.server.clientSide.v4, 22, 1500));
  describe('bystander -> 22/tcp', probe(t, t.other.ns, t.server.otherSide.v4, 22, 1500));

  say(`Waiting for the ${DURATION_S}s grant to run out (the kernel expires it; the daemon is not needed for that)`);
  await daemon.waitFor((l) => l.event === 'grant-expired', (DURATION_S + 5) * 1000, 'the expiry');
  await sleep(1000);
  describe('client -> 22/tcp', probe(t, t.client.ns, t.server.clientSide.v4, 22, 1500));

  say('Single Packet Authorization: an eavesdropper on the path records everything on the wire...');
  const capture = t.start(t.server.ns, [process.execPath, SPA_TOOL, 'capture', '62201', '10000']);
  let captured = '';
  capture.stdout?.on('data', (d: Buffer) => (captured += d.toString()));
  while (!captured.includes('ready')) await sleep(20);
  say(`...while the client sends one encrypted datagram: knockgate knock ${t.server.clientSide.v4} -c laptop.yaml`);
  t.run(t.client.ns, [process.execPath, KNOCKGATE, 'knock', t.server.clientSide.v4, '-c', join(dir, 'laptop.yaml')]);
  await new Promise((r) => capture.once('exit', r));
  const hex = captured.split('\n')[1]?.trim() ?? '';
  const spaGrant = await daemon.waitFor((l) => l.event === 'grant' && l.door === 'ssh-spa', 5000, 'the SPA grant');
  show(`on the wire: ${hex.length / 2} bytes that look random: ${hex.slice(0, 48)}...`);
  show(
    `knockgated logged: ${JSON.stringify({ event: spaGrant.event, door: spaGrant.door, client: spaGrant.client, source: spaGrant.source, verdict: spaGrant.verdict })}`,
  );
  describe('client -> 22/tcp', probe(t, t.client.ns, t.server.clientSide.v4, 22, 1500));

  say("The eavesdropper replays the captured datagram, byte for byte, from the bystander's address");
  const before = daemon.lines.length;
  t.run(t.other.ns, [process.execPath, SPA_TOOL, 'send', t.server.otherSide.v4, '62201', hex]);
  const verdict = await daemon.waitFor(
    (l) => daemon.lines.indexOf(l) >= before && l.event === 'spa',
    5000,
    'the verdict on the replay',
  );
  show(
    `knockgated logged: ${JSON.stringify({ event: verdict.event, source: verdict.source, verdict: verdict.verdict, reason: verdict.reason })}`,
  );
  describe('bystander -> 22/tcp', probe(t, t.other.ns, t.server.otherSide.v4, 22, 1500));

  say('Done.');
  cleanup();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    cleanup();
    process.exit(1);
  },
);
