/**
 * The peers as benchmark subjects: Debian's knockd 0.8 and fwknopd 2.6.10 (the packages, run as the
 * integration tests run them), each in its own testbed, each behind an iptables ruleset that hides
 * the protected port the way their documentation sets them up.
 *
 * Rulesets (iptables, filter table, server namespace), loaded before the daemon starts:
 *   -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT   (as knockgate's own table does)
 *   -A INPUT -p tcp --dport 22 -j DROP                               (the protected port, hidden)
 *   knockd:        -A INPUT -p tcp -m multiport --dports 7000,8000,9000 -j DROP   (knock ports hidden,
 *                  as knockgate's hide_knock_ports does; knockd reads them with libpcap regardless)
 *   fwknopd pcap:  -A INPUT -p udp --dport 62201 -j DROP             (nothing listens; libpcap reads)
 *   fwknopd UDP-server mode: nothing more (its socket must receive the datagrams)
 * knockd gets the same ruleset from ip6tables (the storm is sent over IPv6; knockd 0.8 reads IPv6
 * knocks). knockd's door runs `iptables -I INPUT 1 -s %IP% -p tcp --dport 22 -j ACCEPT` (Debian's example
 * command, inserted first so it precedes the DROP). fwknopd manages its own FWKNOP_INPUT chain,
 * jumped to from INPUT position 1 (its defaults). knockd logs to /dev/null (its per-knock log lines
 * would otherwise fill the disk under a flood; the writes still cost what they cost).
 *
 * fwknopd variants (fwknopd.conf; everything else left at the package's defaults):
 *   pcap        PCAP_INTF only (PCAP_DISPATCH_COUNT 0, PCAP_LOOP_SLEEP 100000 µs by default)
 *   pcap-tuned  PCAP_DISPATCH_COUNT 1000; PCAP_LOOP_SLEEP 1000 (µs)
 *   udp         ENABLE_UDP_SERVER Y; UDPSERV_PORT 62201
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessConfText, fwknopCredentialText, fwknopPacketMaker, newFwknopKeyset } from './knockgate-daemon.js';
import {
  GRANT_S,
  KINDS,
  KNOCK_PORTS,
  OPEN_PORT,
  SEQUENCE_TIMEOUT_S,
  SPA_PORT,
  countIptablesGrants,
  drain,
  isAlive,
  prepareTestbed,
  sleep,
  tryRun,
  until,
  type KindName,
  type Subject,
} from './subject.js';

function baseRules(extra: readonly string[]): string {
  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    `-A INPUT -p tcp -m tcp --dport ${OPEN_PORT} -j DROP`,
    ...extra,
    'COMMIT',
    '',
  ].join('\n');
}

export async function startKnockd(): Promise<Subject> {
  const { tb, dir, dispose } = prepareTestbed();
  try {
    const ifname = tb.server.clientSide.ifname;
    const rules = baseRules([`-A INPUT -p tcp -m multiport --dports ${KNOCK_PORTS.join(',')} -j DROP`]);
    tb.run(tb.server.ns, ['iptables-restore'], rules);
    // The same ruleset for IPv6 (the storm is sent over IPv6): knock ports hidden there too, as
    // knockgate's inet table hides them for both families.
    tb.run(tb.server.ns, ['ip6tables-restore'], rules);
    const conf = join(dir, 'knockd.conf');
    writeFileSync(
      conf,
      [
        '[options]',
        '\tlogfile = /dev/null',
        `\tinterface = ${ifname}`,
        '',
        '[openSSH]',
        `\tsequence    = ${KNOCK_PORTS.join(',')}`,
        `\tseq_timeout = ${SEQUENCE_TIMEOUT_S}`,
        '\ttcpflags    = syn',
        `\tcommand     = /usr/sbin/iptables -I INPUT 1 -s %IP% -p tcp --dport ${OPEN_PORT} -j ACCEPT`,
        '',
      ].join('\n'),
    );
    const child = tb.start(tb.server.ns, ['/usr/sbin/knockd', '-c', conf, '-i', ifname]);
    const tail = drain(child);
    const pid = child.pid as number;
    await sleep(1000);
    if (!isAlive(pid)) throw new Error(`knockd exited at start: ${tail()}`);
    return {
      kind: 'knockd',
      info: KINDS.knockd,
      tb,
      pid,
      host: tb.server.clientSide.v4,
      targetPorts: [...KNOCK_PORTS],
      knock: { kind: 'tcp', ports: [...KNOCK_PORTS] },
      config: {
        sequence: KNOCK_PORTS,
        seq_timeout_s: SEQUENCE_TIMEOUT_S,
        tcpflags: 'syn',
        command: 'iptables -I INPUT 1 -s %IP% -p tcp --dport 22 -j ACCEPT',
        logfile: '/dev/null',
        interface: ifname,
      },
      resetGrants() {
        tb.run(tb.server.ns, ['iptables-restore'], rules);
      },
      grants: () => countIptablesGrants(tryRun(tb, tb.server.ns, ['iptables-save', '-t', 'filter']) ?? '', 'INPUT'),
      alive: () => isAlive(pid),
      logTail: tail,
      stop: dispose,
    };
  } catch (err) {
    dispose();
    throw err;
  }
}

export async function startFwknopd(kind: Extract<KindName, `fwknopd-${string}`>): Promise<Subject> {
  const { tb, dir, dispose } = prepareTestbed();
  try {
    const ifname = tb.server.clientSide.ifname;
    const udp = kind === 'fwknopd-udp';
    const rules = baseRules(udp ? [] : [`-A INPUT -p udp -m udp --dport ${SPA_PORT} -j DROP`]);
    tb.run(tb.server.ns, ['iptables-restore'], rules);
    const keys = newFwknopKeyset();
    writeFileSync(join(dir, 'access.conf'), accessConfText(keys), { mode: 0o600 });
    const cred = join(dir, 'fwknop-client.yaml');
    writeFileSync(cred, fwknopCredentialText(keys), { mode: 0o600 });
    const confLines = [`PCAP_INTF                   ${ifname};`];
    if (kind === 'fwknopd-pcap-tuned')
      confLines.push('PCAP_DISPATCH_COUNT         1000;', 'PCAP_LOOP_SLEEP             1000;');
    if (udp) confLines.push('ENABLE_UDP_SERVER           Y;', `UDPSERV_PORT                ${SPA_PORT};`);
    writeFileSync(join(dir, 'fwknopd.conf'), `${confLines.join('\n')}\n`, { mode: 0o600 });
    const child = tb.start(tb.server.ns, [
      '/usr/sbin/fwknopd',
      '-f',
      '-c',
      join(dir, 'fwknopd.conf'),
      '-a',
      join(dir, 'access.conf'),
      '-i',
      ifname,
      '-p',
      join(dir, 'fwknopd.pid'),
      '-d',
      join(dir, 'digest.cache'),
      '-r',
      join(dir, 'run'),
    ]);
    const tail = drain(child);
    const pid = child.pid as number;
    await until(
      'fwknopd to create FWKNOP_INPUT',
      () => !isAlive(pid) || (tryRun(tb, tb.server.ns, ['iptables', '-S']) ?? '').includes('-N FWKNOP_INPUT'),
      10_000,
    );
    if (udp)
      await until(
        'fwknopd to bind its UDP port',
        () => !isAlive(pid) || (tryRun(tb, tb.server.ns, ['ss', '-Hlun']) ?? '').includes(`:${SPA_PORT} `),
        10_000,
      );
    await sleep(500);
    if (!isAlive(pid)) throw new Error(`fwknopd exited at start: ${tail()}`);
    return {
      kind,
      info: KINDS[kind],
      tb,
      pid,
      host: tb.server.clientSide.v4,
      targetPorts: [SPA_PORT],
      knock: { kind: 'fwknop', credential: cred, allowIp: tb.client.v4 },
      config: {
        'fwknopd.conf': confLines.map((l) => l.replace(/\s+/g, ' ')),
        access_conf: `SOURCE ANY, OPEN_PORTS tcp/22, HMAC sha256, FW_ACCESS_TIMEOUT ${GRANT_S}`,
      },
      resetGrants() {
        tb.run(tb.server.ns, ['iptables', '-F', 'FWKNOP_INPUT']);
      },
      grants: () =>
        countIptablesGrants(tryRun(tb, tb.server.ns, ['iptables-save', '-t', 'filter']) ?? '', 'FWKNOP_INPUT'),
      validPacket: fwknopPacketMaker(cred),
      alive: () => isAlive(pid),
      logTail: tail,
      stop: dispose,
    };
  } catch (err) {
    dispose();
    throw err;
  }
}
