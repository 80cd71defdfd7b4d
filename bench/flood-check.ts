/**
 * Checks bench/flood on this machine: for each mode and for 10k, 50k and 100k packets per second
 * (plus a 1M pps ceiling probe), sends for 3 s from the client namespace of a fresh testbed to the
 * server namespace and prints what the sender achieved, what it cost (sender CPU from
 * /proc/PID/stat; the receiving veth's softirq work mostly runs in the sender's context and is
 * included), and what arrived: the server veth's rx packet counter, the server kernel's SNMP counters
 * (a datagram or segment with a bad IPv4, UDP or TCP checksum is counted as an error there and never
 * delivered), and, for UDP modes, datagrams seen by UDP sockets in the server namespace, with the
 * payload shape of the mode checked. Then sends a frames file of 1,000 valid UDP frames from 1,000
 * distinct sources and checks that UDP sockets receive every one with the right source address, and
 * that 10 frames with a bad UDP checksum and 10 with a bad IPv4 header checksum are not delivered.
 *
 * Contract: run as root after a build (`npm run bench:flood-check`). Sends only inside its own
 * testbed, destroyed in `finally`. Every run is bounded by --count and --seconds. Exit 0 when every
 * sanity check passed, 1 otherwise. `node dist/bench/flood-check.js --recv CONFIG` is the receiver it
 * starts inside the server namespace (not for direct use).
 */

import { spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestbed, type Testbed } from '../test/support/netns.js';
import { floodBinary, macOf, startFlood, type FloodOptions, type FloodSummary } from './flood.js';
import { udpFrame, writeFramesFile } from './frames.js';
import { BURST_SOURCES, JUNK_SOURCES, burstSource } from './sources.js';
import { MAX_FWKNOP_PACKET_BYTES, MAX_SPA_BYTES, MIN_FWKNOP_PACKET_BYTES, MIN_SPA_BYTES } from '../src/core/limits.js';

type Mode = FloodOptions['mode'];
const MODES: readonly Exclude<Mode, 'frames'>[] = ['syn', 'udp-random', 'udp-native', 'udp-fwknop'];
const RATES = [10_000, 50_000, 100_000] as const;
const CEILING_RATE = 1_000_000;
const RUN_SECONDS = 3;
const CEILING_SECONDS = 2;
const UDP_PORTS = [40_001, 40_002];
const TCP_PORTS = [22, 443];
const SPOOF = JUNK_SOURCES;
const FRAME_COUNT = 1_000;
const BAD_FRAMES_EACH = 10;
/** Receiver: longest life, and most distinct sources it remembers. */
const RECEIVER_MAX_LIFE_MS = 120_000;
const RECEIVER_MAX_SOURCES = 200_000;
const SETTLE_MS = 300;

// ---------------------------------------------------------------------------------------------
// Receiver (runs in the server namespace)

interface ReceiverConfig {
  ports: number[];
  shape: 'any' | 'random' | 'native' | 'fwknop' | 'frames';
}
interface ReceiverReport {
  datagrams: number;
  shapeOk: number;
  distinctSources: number;
  frames: Array<[string, number]>;
}

const B64_CHARS = /^[A-Za-z0-9+/]*$/;

function runReceiver(cfg: ReceiverConfig): void {
  let datagrams = 0;
  let shapeOk = 0;
  const sources = new Set<string>();
  const frames: Array<[string, number]> = [];
  const ok = (m: Buffer): boolean => {
    switch (cfg.shape) {
      case 'random':
        return m.length >= 16 && m.length <= 512;
      case 'native':
        return m.length >= MIN_SPA_BYTES && m.length <= MAX_SPA_BYTES;
      case 'fwknop':
        return (
          m.length >= MIN_FWKNOP_PACKET_BYTES &&
          m.length <= MAX_FWKNOP_PACKET_BYTES &&
          B64_CHARS.test(m.toString('latin1'))
        );
      case 'frames':
        return m.length >= 8 && m.subarray(4, 8).toString('latin1') === 'kgfr';
      default:
        return true;
    }
  };
  let bound = 0;
  for (const port of cfg.ports) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
    s.on('message', (m, rinfo) => {
      datagrams++;
      if (ok(m)) shapeOk++;
      if (sources.size < RECEIVER_MAX_SOURCES) sources.add(rinfo.address);
      if (cfg.shape === 'frames' && m.length >= 8 && frames.length < 100_000)
        frames.push([rinfo.address, m.readUInt32BE(0)]);
    });
    s.on('error', (e) => {
      process.stderr.write(`receiver: ${e.message}\n`);
      process.exit(2);
    });
    s.bind(port, '0.0.0.0', () => {
      if (++bound === cfg.ports.length) process.stdout.write('ready\n');
    });
  }
  const report = (): void => {
    const r: ReceiverReport = { datagrams, shapeOk, distinctSources: sources.size, frames };
    process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0));
  };
  process.on('SIGTERM', report);
  setTimeout(report, RECEIVER_MAX_LIFE_MS).unref();
}

function startReceiver(
  tb: Testbed,
  cfg: ReceiverConfig,
): Promise<{ child: ChildProcess; result: Promise<ReceiverReport> }> {
  const self = fileURLToPath(import.meta.url);
  const child = tb.start(tb.server.ns, [process.execPath, self, '--recv', JSON.stringify(cfg)]);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (err.length < 65_536) err += d;
  });
  const result = new Promise<ReceiverReport>((resolve, reject) => {
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ReceiverReport);
      } catch {
        reject(new Error(`receiver exited ${code}: ${err.trim()}`));
      }
    });
  });
  result.catch(() => {
    /* observed by the caller when it awaits */
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver not ready after 10 s: ${err.trim()}`)), 10_000);
    child.stdout?.on('data', (d: string) => {
      if (out.length < 16 << 20) out += d;
      if (out.startsWith('ready\n')) {
        out = out.slice('ready\n'.length);
        clearTimeout(timer);
        resolve({ child, result });
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`receiver exited early: ${err.trim()}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Counters

function snmp(tb: Testbed, ns: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const file of ['/proc/net/snmp', '/proc/net/netstat']) {
    const lines = tb.run(ns, ['cat', file]).trim().split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(/\s+/);
      const values = lines[i + 1]!.split(/\s+/);
      const prefix = names[0]!.replace(/:$/, '');
      for (let k = 1; k < names.length; k++) m.set(`${prefix}${names[k]}`, Number(values[k]));
    }
  }
  return m;
}

function linkStats(
  tb: Testbed,
  ns: string,
  ifname: string,
): { rx: number; rxDropped: number; tx: number; txDropped: number } {
  const j = JSON.parse(tb.run(ns, ['ip', '-j', '-s', 'link', 'show', 'dev', ifname])) as Array<{
    stats64: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } };
  }>;
  const s = j[0]!.stats64;
  return { rx: s.rx.packets, rxDropped: s.rx.dropped, tx: s.tx.packets, txDropped: s.tx.dropped };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime+stime of a process, in seconds, or null when it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (all CPUs), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** The PID of our child `flood` (tb.start runs `ip netns exec`, which execs it in place). */
function findFloodPid(): number | null {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'flood' && ppid === process.pid) return Number(e);
    } catch {
      /* gone */
    }
  }
  return null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// One run

interface Row {
  mode: string;
  asked: number;
  summary: FloodSummary;
  senderCpu: number;
  machineCpu: number;
  linkRx: number;
  kernel: number;
  kernelLabel: string;
  csumErrors: number;
  socket: number | null;
  shapeOk: number | null;
  distinct: number | null;
}

interface Env {
  tb: Testbed;
  srcMac: string;
  dstMac: string;
  srvIf: string;
}

async function measure(
  env: Env,
  o: FloodOptions,
  rxCfg: ReceiverConfig | null,
): Promise<{ row: Row; report: ReceiverReport | null }> {
  const { tb } = env;
  const rx = rxCfg ? await startReceiver(tb, rxCfg) : null;
  try {
    const l0 = linkStats(tb, tb.server.ns, env.srvIf);
    const s0 = snmp(tb, tb.server.ns);
    const m0 = machineCpu();
    const flood = startFlood(tb, tb.client.ns, o);
    let pid: number | null = null;
    let first: { cpu: number; t: number } | null = null;
    let last: { cpu: number; t: number } | null = null;
    let finished = false;
    const sampler = (async () => {
      while (!finished) {
        pid ??= findFloodPid();
        if (pid !== null) {
          const c = cpuSeconds(pid);
          if (c !== null) {
            const sample = { cpu: c, t: performance.now() };
            first ??= sample;
            last = sample;
          }
        }
        await sleep(pid === null ? 5 : 50);
      }
    })();
    let summary: FloodSummary;
    try {
      summary = await flood.done;
    } finally {
      finished = true;
      await sampler;
    }
    const m1 = machineCpu();
    await sleep(SETTLE_MS);
    const l1 = linkStats(tb, tb.server.ns, env.srvIf);
    const s1 = snmp(tb, tb.server.ns);
    const d = (k: string): number => (s1.get(k) ?? 0) - (s0.get(k) ?? 0);
    let report: ReceiverReport | null = null;
    if (rx) {
      process.kill(rx.child.pid!, 'SIGTERM');
      report = await rx.result;
    }
    const f = first as { cpu: number; t: number } | null;
    const l = last as { cpu: number; t: number } | null;
    const senderCpu = f && l && l.t - f.t > 100 ? (100 * (l.cpu - f.cpu)) / ((l.t - f.t) / 1000) : NaN;
    const isTcp = o.mode === 'syn';
    const row: Row = {
      mode: o.mode,
      asked: o.rate,
      summary,
      senderCpu,
      machineCpu: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
      linkRx: l1.rx - l0.rx,
      kernel: isTcp ? d('TcpInSegs') : d('UdpInDatagrams') + d('UdpRcvbufErrors') + d('UdpNoPorts'),
      kernelLabel: isTcp ? 'TcpInSegs' : 'UdpIn+RcvbufErr+NoPorts',
      csumErrors: d('IpInHdrErrors') + (isTcp ? d('TcpInCsumErrors') : d('UdpInCsumErrors')),
      socket: report ? report.datagrams : null,
      shapeOk: report ? report.shapeOk : null,
      distinct: report ? report.distinctSources : null,
    };
    return { row, report };
  } finally {
    if (rx && rx.child.exitCode === null && rx.child.pid !== undefined) {
      try {
        process.kill(rx.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

function printTable(rows: Row[]): void {
  const head = [
    'mode',
    'asked pps',
    'achieved pps',
    'sent',
    'ENOBUFS',
    'sender CPU%',
    'machine CPU%',
    'server rx (link)',
    'kernel accepted',
    'csum/hdr errs',
    'UDP socket rcvd',
    'shape ok',
    'distinct srcs (cap 200k)',
  ];
  const body = rows.map((r) => [
    r.mode,
    fmt(r.asked),
    fmt(r.summary.pps),
    fmt(r.summary.sent),
    fmt(r.summary.errors),
    r.senderCpu.toFixed(0),
    r.machineCpu.toFixed(0),
    fmt(r.linkRx),
    fmt(r.kernel),
    fmt(r.csumErrors),
    r.socket === null ? '-' : fmt(r.socket),
    r.shapeOk === null ? '-' : fmt(r.shapeOk),
    r.distinct === null ? '-' : fmt(r.distinct),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

async function main(): Promise<number> {
  floodBinary();
  const failures: string[] = [];
  const check = (okay: boolean, what: string): void => {
    if (!okay) failures.push(what);
  };
  const tmp = mkdtempSync(join(tmpdir(), 'kg-flood-check-'));
  const tb = createTestbed();
  try {
    const srvIf = tb.server.clientSide.ifname;
    // Spoofed sources have no route back; make sure reverse-path filtering does not drop them.
    tb.run(tb.server.ns, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', `net.ipv4.conf.${srvIf}.rp_filter=0`]);
    const env: Env = {
      tb,
      srcMac: macOf(tb, tb.client.ns, tb.client.ifname),
      dstMac: macOf(tb, tb.server.ns, srvIf),
      srvIf,
    };
    const base = { ifname: tb.client.ifname, srcMac: env.srcMac, dstMac: env.dstMac, dst: tb.server.clientSide.v4 };
    const shapeOf = { 'udp-random': 'random', 'udp-native': 'native', 'udp-fwknop': 'fwknop' } as const;

    const rows: Row[] = [];
    const ceiling: Row[] = [];
    for (const mode of MODES) {
      for (const rate of [...RATES, CEILING_RATE]) {
        const seconds = rate === CEILING_RATE ? CEILING_SECONDS : RUN_SECONDS;
        const o: FloodOptions = {
          ...base,
          mode,
          spoof: SPOOF,
          ports: mode === 'syn' ? TCP_PORTS : UDP_PORTS,
          rate,
          count: rate * seconds * 2,
          seconds,
        };
        const rxCfg: ReceiverConfig | null = mode === 'syn' ? null : { ports: UDP_PORTS, shape: shapeOf[mode] };
        const { row } = await measure(env, o, rxCfg);
        (rate === CEILING_RATE ? ceiling : rows).push(row);
        process.stderr.write(`done: ${mode} @ ${rate}: ${JSON.stringify(row.summary)}\n`);
        if (rate !== CEILING_RATE) {
          check(
            Math.abs(row.summary.pps - rate) / rate <= 0.03,
            `${mode} @ ${rate}: achieved ${row.summary.pps} pps, more than 3% off`,
          );
          check(row.csumErrors === 0, `${mode} @ ${rate}: ${row.csumErrors} checksum/header errors at the server`);
          check(
            row.linkRx >= row.summary.sent * 0.99,
            `${mode} @ ${rate}: server link saw ${row.linkRx} of ${row.summary.sent}`,
          );
          check(
            row.kernel >= row.summary.sent * 0.99,
            `${mode} @ ${rate}: server kernel accepted ${row.kernel} of ${row.summary.sent}`,
          );
          if (row.shapeOk !== null && row.socket !== null)
            check(
              row.shapeOk === row.socket,
              `${mode} @ ${rate}: ${row.socket - row.shapeOk} datagrams of the wrong shape`,
            );
        }
      }
    }

    // frames: 1,000 valid UDP frames from 1,000 distinct sources, then 10 + 10 broken ones.
    const srcOf = (i: number): string => burstSource(BURST_SOURCES, i);
    const payload = (i: number): Buffer => {
      const p = Buffer.concat([Buffer.alloc(4), Buffer.from('kgfr'), randomBytes(MIN_SPA_BYTES - 8 + (i % 64))]);
      p.writeUInt32BE(i, 0);
      return p;
    };
    const good = Array.from({ length: FRAME_COUNT }, (_, i) =>
      udpFrame({
        srcMac: env.srcMac,
        dstMac: env.dstMac,
        src: srcOf(i),
        dst: base.dst,
        sport: 30_000 + i,
        dport: UDP_PORTS[i % 2]!,
        payload: payload(i),
      }),
    );
    const goodFile = join(tmp, 'good.frames');
    writeFramesFile(goodFile, good);
    const mode600 = spawnSync('stat', ['-c', '%a', goodFile], { encoding: 'utf8' }).stdout.trim();
    check(mode600 === '600', `frames file mode is ${mode600}, not 600`);
    const fo: FloodOptions = {
      ...base,
      mode: 'frames',
      framesFile: goodFile,
      rate: 10_000,
      count: FRAME_COUNT,
      seconds: 5,
    };
    const { row: fRow, report } = await measure(env, fo, { ports: UDP_PORTS, shape: 'frames' });
    let rightSource = 0;
    const seen = new Set<number>();
    for (const [addr, idx] of report?.frames ?? []) {
      if (idx < FRAME_COUNT && addr === srcOf(idx) && !seen.has(idx)) rightSource++;
      seen.add(idx);
    }
    check(fRow.summary.sent === FRAME_COUNT, `frames: sent ${fRow.summary.sent} of ${FRAME_COUNT}`);
    check(rightSource === FRAME_COUNT, `frames: ${rightSource} of ${FRAME_COUNT} received with the right source`);
    check(
      report?.distinctSources === FRAME_COUNT,
      `frames: ${report?.distinctSources} distinct sources, not ${FRAME_COUNT}`,
    );

    const badUdp = good.slice(0, BAD_FRAMES_EACH).map((f) => {
      const b = Buffer.from(f);
      b[14 + 20 + 6]! ^= 0x5a;
      return b;
    });
    const badIp = good.slice(BAD_FRAMES_EACH, 2 * BAD_FRAMES_EACH).map((f) => {
      const b = Buffer.from(f);
      b[14 + 10]! ^= 0x5a;
      return b;
    });
    const badFile = join(tmp, 'bad.frames');
    writeFramesFile(badFile, [...badUdp, ...badIp]);
    const s0 = snmp(tb, tb.server.ns);
    const { row: bRow } = await measure(
      env,
      { ...fo, framesFile: badFile, count: 2 * BAD_FRAMES_EACH },
      { ports: UDP_PORTS, shape: 'frames' },
    );
    const s1 = snmp(tb, tb.server.ns);
    const udpCsum = (s1.get('UdpInCsumErrors') ?? 0) - (s0.get('UdpInCsumErrors') ?? 0);
    const ipHdr = (s1.get('IpInHdrErrors') ?? 0) - (s0.get('IpInHdrErrors') ?? 0);
    check(bRow.socket === 0, `broken frames: ${bRow.socket} delivered to the UDP socket`);
    check(udpCsum === BAD_FRAMES_EACH, `broken frames: UdpInCsumErrors +${udpCsum}, expected +${BAD_FRAMES_EACH}`);
    check(ipHdr === BAD_FRAMES_EACH, `broken frames: IpInHdrErrors +${ipHdr}, expected +${BAD_FRAMES_EACH}`);

    console.log(
      `\nflood check on ${tb.client.ifname} -> ${srvIf} (veth), ${RUN_SECONDS} s per run, spoofed sources from ${SPOOF}\n`,
    );
    printTable(rows);
    console.log(`\nceiling probe: asked ${CEILING_RATE.toLocaleString('en-US')} pps for ${CEILING_SECONDS} s\n`);
    printTable(ceiling);
    console.log(
      `\nframes: ${fRow.summary.sent} valid frames sent from ${FRAME_COUNT} distinct sources; ${fRow.socket} received by the UDP sockets, ${rightSource} with the right source address and index`,
    );
    console.log(
      `broken frames: ${bRow.summary.sent} sent (${BAD_FRAMES_EACH} bad UDP checksum, ${BAD_FRAMES_EACH} bad IPv4 header checksum); ${bRow.socket} delivered; server UdpInCsumErrors +${udpCsum}, IpInHdrErrors +${ipHdr}`,
    );
    console.log('\nsender CPU%: utime+stime of the flood process over its run (100 = one core); it includes the');
    console.log("receiving veth's softirq work, which runs in the sender's context. machine CPU%: both cores.");
  } finally {
    tb.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.log(`\nFAILED checks:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  console.log('\nall checks passed');
  return 0;
}

if (process.argv[2] === '--recv') {
  runReceiver(JSON.parse(process.argv[3] ?? '{}') as ReceiverConfig);
} else {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
