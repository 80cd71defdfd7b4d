/**
 * knockgated as a benchmark subject: one door per run (a 3-port sequence door, a native SPA door,
 * or an fwknop-compatible door reading an fwknopd access.conf), configured as a user would from
 * the README, started with the built CLI exactly as the integration tests start it.
 *
 * Contract: grants are read from, and removed in, knockgate's own set (`inet knockgate grants4`);
 * the daemon's logs are consumed (startDaemonWith keeps them in memory; knockgated rate-limits its
 * per-packet lines). Credentials are made with the real `knockgate keygen` / `add-client`.
 */

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFwknopPacket, readFwknopCredential } from '../src/client/fwknop-sender.js';
import { buildSpaDatagram } from '../src/client/spa-sender.js';
import { readClientCredential } from '../src/stores/key-files.js';
import { clientEntryYaml } from '../test/support/client-entry.js';
import { knockgateCli, startDaemonWith } from '../test/support/daemon-process.js';
import {
  GRANT_S,
  KINDS,
  KNOCK_PORTS,
  OPEN_PORT,
  SEQUENCE_TIMEOUT_S,
  SPA_PORT,
  isAlive,
  prepareTestbed,
  tryRun,
  type GrantCount,
  type KindName,
  type Subject,
} from './subject.js';

const cli = knockgateCli;

/** fwknopd-style keys shared by the knockgate fwknop door and fwknopd (same access.conf). */
export interface FwknopKeyset {
  readonly key: string;
  readonly hmac: string;
}

export function newFwknopKeyset(): FwknopKeyset {
  return { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') };
}

export function accessConfText(k: FwknopKeyset): string {
  return [
    `SOURCE              ANY`,
    `OPEN_PORTS          tcp/${OPEN_PORT}`,
    `KEY_BASE64          ${k.key}`,
    `HMAC_KEY_BASE64     ${k.hmac}`,
    `HMAC_DIGEST_TYPE    sha256`,
    `FW_ACCESS_TIMEOUT   ${GRANT_S}`,
    '',
  ].join('\n');
}

export function fwknopCredentialText(k: FwknopKeyset): string {
  return `kind: knockgate-fwknop-client-v1\nkey_base64: ${k.key}\nhmac_key_base64: ${k.hmac}\nhmac_digest_type: sha256\nport: ${SPA_PORT}\nuser: root\n`;
}

/** Builds fwknop packets as the fwknop client does, for a given allow-IP (-a), asking for tcp/22. */
export function fwknopPacketMaker(credFile: string): (source: string) => Uint8Array {
  const cred = readFwknopCredential(credFile);
  return (source) => buildFwknopPacket(cred, source, [{ proto: 'tcp', port: OPEN_PORT }], 0, Date.now());
}

/** Counts grants in `nft -j list set inet knockgate grants4` output. */
export function countNftGrants(json: string): GrantCount {
  const sources = new Set<string>();
  let entries = 0;
  let doc: { nftables?: Array<{ set?: { elem?: unknown[] } }> };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    return { sources: 0, entries: 0 };
  }
  const firstAddress = (v: unknown): string | null => {
    if (typeof v === 'string') return v;
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.concat)) return firstAddress(o.concat[0]);
    if (o.elem !== undefined) return firstAddress((o.elem as Record<string, unknown>).val);
    if (o.prefix !== undefined) {
      const p = o.prefix as { addr?: unknown; len?: unknown };
      return `${String(p.addr)}/${String(p.len)}`;
    }
    if (Array.isArray(o.range)) return `${String(firstAddress(o.range[0]))}-${String(firstAddress(o.range[1]))}`;
    return null;
  };
  const portOf = (v: unknown): number | null => {
    const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    const val = o.elem !== undefined ? (o.elem as Record<string, unknown>).val : v;
    const c = (val as { concat?: unknown[] } | undefined)?.concat;
    return Array.isArray(c) && typeof c[2] === 'number' ? c[2] : null;
  };
  for (const item of doc.nftables ?? []) {
    for (const e of item.set?.elem ?? []) {
      const port = portOf(e);
      if (port !== null && port !== OPEN_PORT) continue;
      const a = firstAddress(e);
      if (a === null) continue;
      entries++;
      sources.add(a);
    }
  }
  return { sources: sources.size, entries };
}

export async function startKnockgate(kind: Extract<KindName, `knockgate-${string}`>): Promise<Subject> {
  const { tb, dir, dispose } = prepareTestbed();
  try {
    const ifname = tb.server.clientSide.ifname;
    const host = tb.server.clientSide.v4;
    const configFile = join(dir, 'knockgate.yaml');
    let knock: Subject['knock'];
    let targetPorts: number[];
    let validPacket: ((source: string) => Uint8Array) | undefined;
    let yaml: string[];
    const config: Record<string, unknown> = { interfaces: [ifname], grant_s: GRANT_S };
    if (kind === 'knockgate-seq') {
      yaml = [
        `interfaces: [${ifname}]`,
        'firewall: nftables',
        'doors:',
        '  - name: ssh',
        `    sequence: [${KNOCK_PORTS.join(', ')}]`,
        `    sequence_timeout: ${SEQUENCE_TIMEOUT_S}s`,
        `    open: [${OPEN_PORT}/tcp]`,
        `    duration: ${GRANT_S}s`,
        '',
      ];
      knock = { kind: 'tcp', ports: [...KNOCK_PORTS] };
      targetPorts = [...KNOCK_PORTS];
      Object.assign(config, {
        sequence: KNOCK_PORTS,
        sequence_timeout_s: SEQUENCE_TIMEOUT_S,
        tcp_flags: 'syn,!ack (default)',
        hide_knock_ports: true,
        max_tracked_sequences: 'default (100000)',
      });
    } else if (kind === 'knockgate-spa') {
      cli(['keygen', '-o', join(dir, 'server.key')]);
      const cred = join(dir, 'client.yaml');
      const entry = cli([
        'add-client',
        'bench',
        '--door',
        'ssh',
        '-k',
        join(dir, 'server.key'),
        '--port',
        String(SPA_PORT),
        '-o',
        cred,
      ]);
      yaml = [
        `interfaces: [${ifname}]`,
        'spa:',
        '  server_key: server.key',
        '  replay_journal: replay.journal',
        'doors:',
        '  - name: ssh',
        `    spa: { port: ${SPA_PORT} }`,
        `    open: [${OPEN_PORT}/tcp]`,
        `    duration: ${GRANT_S}s`,
        '    clients:',
        ...clientEntryYaml(entry),
        '',
      ];
      knock = { kind: 'native', credential: cred, port: SPA_PORT };
      targetPorts = [SPA_PORT];
      const credential = readClientCredential(cred);
      validPacket = () =>
        buildSpaDatagram(credential, { ports: [], durationS: 0, address: null, prefix: 0 }, Date.now());
      Object.assign(config, { spa_port: SPA_PORT, capture: 'socket (default)', client_mode: 'ed25519 (default)' });
    } else {
      const keys = newFwknopKeyset();
      writeFileSync(join(dir, 'access.conf'), accessConfText(keys), { mode: 0o600 });
      const cred = join(dir, 'fwknop-client.yaml');
      writeFileSync(cred, fwknopCredentialText(keys), { mode: 0o600 });
      yaml = [
        `interfaces: [${ifname}]`,
        'spa:',
        '  replay_journal: replay.journal',
        'doors:',
        '  - name: fwknop',
        `    fwknop: { port: ${SPA_PORT} }`,
        '    access_conf: access.conf',
        `    open: [${OPEN_PORT}/tcp]`,
        `    duration: ${GRANT_S}s`,
        '',
      ];
      knock = { kind: 'fwknop', credential: cred, allowIp: tb.client.v4 };
      targetPorts = [SPA_PORT];
      validPacket = fwknopPacketMaker(cred);
      Object.assign(config, {
        spa_port: SPA_PORT,
        capture: 'pcap (default for fwknop doors)',
        hmac: 'sha256',
        access_conf: 'SOURCE ANY, OPEN_PORTS tcp/22',
      });
    }
    writeFileSync(configFile, yaml.join('\n'), { mode: 0o600 });
    const daemon = await startDaemonWith(tb, ['-c', configFile]);
    const subject: Subject = {
      kind,
      info: KINDS[kind],
      tb,
      pid: daemon.pid,
      host,
      targetPorts,
      knock,
      config,
      resetGrants() {
        tb.run(tb.server.ns, ['nft', 'flush', 'set', 'inet', 'knockgate', 'grants4']);
      },
      grants() {
        return countNftGrants(
          tryRun(tb, tb.server.ns, ['nft', '-j', 'list', 'set', 'inet', 'knockgate', 'grants4']) ?? '',
        );
      },
      async counters() {
        const from = daemon.lines.length;
        process.kill(daemon.pid, 'SIGUSR1');
        const line = await daemon
          .waitFor((l) => l.event === 'stats' && daemon.lines.indexOf(l) >= from, 3000, 'the stats line')
          .catch(() => null);
        if (!line) return null;
        return Object.fromEntries(
          Object.entries(line).filter(
            (e): e is [string, number] =>
              typeof e[1] === 'number' && e[0] !== 'time' && e[0] !== 'level' && e[0] !== 'pid',
          ),
        );
      },
      alive: () => isAlive(daemon.pid),
      logTail: () =>
        `${daemon.stderr().slice(-2000)}\n${daemon.lines
          .slice(-5)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      stop: dispose,
    };
    if (validPacket) subject.validPacket = validPacket;
    return subject;
  } catch (err) {
    dispose();
    throw err;
  }
}
