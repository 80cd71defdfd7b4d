/**
 * Writes the seed corpus of the fuzz targets: test/fuzz/corpus/<target>/, from scratch.
 * Run after `npm run build` with `node dist/test/fuzz/make-corpus.js` and commit the result.
 *
 * Contract: deterministic (fixed keys and "random" bytes from fixtures.ts), so rerunning it changes
 * nothing unless a seed below or a fixture it copies changed; small (the whole corpus stays well
 * under 300 KB). Regression inputs for bugs the fuzzers found live here too, named `regress-*`, so
 * that regenerating the corpus never drops one.
 */

import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importKnockdConf } from '../../src/config/knockd-conf.js';
import { importAccessConf } from '../../src/config/fwknop-access-conf.js';
import type { LinkType } from '../../src/core/packet.js';
import { rawPublicOf, ed25519PrivateFromSeed } from '../../src/core/spa/keys.js';
import { encodeSpaBody } from '../../src/core/spa/native-request.js';
import { sshEd25519Blob } from '../../src/core/ssh/ssh-public-key.js';
import { clientCredentialText, serverKeyText } from '../../src/stores/key-files.js';
import { CORPUS_DIR, REPO_ROOT } from './harness.js';
import {
  ETH_IPV4,
  ETH_IPV6,
  SPA_SERVER,
  derivedBytes,
  ethernet,
  fwknopPlaintexts,
  fwknopValidPackets,
  ipv4,
  ipv6,
  linkWrap,
  nullLink,
  sll,
  sll2,
  spaValidPackets,
  tcpSegment,
  udpDatagram,
} from './fixtures.js';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const corpus = new Map<string, Map<string, Uint8Array>>();
function seed(target: string, name: string, data: Uint8Array | string | readonly number[]): void {
  const bytes = typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : Uint8Array.from(data);
  let m = corpus.get(target);
  if (!m) {
    m = new Map();
    corpus.set(target, m);
  }
  if (m.has(name)) throw new Error(`duplicate seed ${target}/${name}`);
  m.set(name, bytes);
}
const fixture = (...path: string[]): Uint8Array =>
  new Uint8Array(readFileSync(join(REPO_ROOT, 'test', 'fixtures', ...path)));

// ---------------------------------------------------------------------------------------------
// Frames, per link type

const SRC4 = [192, 0, 2, 10];
const DST4 = [198, 51, 100, 1];
const SRC6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 0x0a];
const DST6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, ...new Array<number>(7).fill(0), 0x01];
const MAPPED6 = [...new Array<number>(10).fill(0), 0xff, 0xff, 203, 0, 113, 5];
const SYN = 0x02;
const knock = [...Buffer.from('knock')];

const ip = {
  v4TcpSyn: ipv4(SRC4, DST4, 6, tcpSegment(40000, 7000, 0x01020304, SYN)),
  v4UdpPayload: ipv4(SRC4, DST4, 17, udpDatagram(40001, 62201, knock)),
  v4TcpOptionsPayload: ipv4(SRC4, DST4, 6, tcpSegment(40002, 22, 0xfffffffe, 0x18, knock, 8)),
  v4IpOptionsUdp: ipv4(SRC4, DST4, 17, udpDatagram(53, 53, [1, 2, 3]), { ihl: 6 }),
  v4Fragment: ipv4(SRC4, DST4, 17, udpDatagram(1, 2, knock), { frag: 0x2000 }),
  v4Icmp: ipv4(SRC4, DST4, 1, [8, 0, 0, 0, 0, 1, 0, 1]),
  v6Udp: ipv6(SRC6, DST6, 17, udpDatagram(40003, 9000, knock)),
  v6TcpExt: ipv6(SRC6, DST6, 6, tcpSegment(40004, 8000, 7, SYN), [
    [0, 0],
    [60, 1],
    [43, 0],
  ]),
  v6MappedTcp: ipv6(MAPPED6, DST6, 6, tcpSegment(40005, 443, 9, SYN)),
  v6Fragment: ipv6(SRC6, DST6, 17, udpDatagram(1, 2), [[44, 0]]),
};

const LINK_TYPES: LinkType[] = ['ethernet', 'linux-sll', 'linux-sll2', 'raw', 'null'];
for (const lt of LINK_TYPES) {
  const t = `packet-${lt}`;
  seed(t, 'ipv4-tcp-syn', linkWrap(lt, 4, ip.v4TcpSyn));
  seed(t, 'ipv4-udp-payload', linkWrap(lt, 4, ip.v4UdpPayload));
  seed(t, 'ipv4-tcp-options-payload', linkWrap(lt, 4, ip.v4TcpOptionsPayload));
  seed(t, 'ipv4-ip-options-udp', linkWrap(lt, 4, ip.v4IpOptionsUdp));
  seed(t, 'ipv4-fragment', linkWrap(lt, 4, ip.v4Fragment));
  seed(t, 'ipv4-icmp', linkWrap(lt, 4, ip.v4Icmp));
  seed(t, 'ipv6-udp', linkWrap(lt, 6, ip.v6Udp));
  seed(t, 'ipv6-ext-headers-tcp', linkWrap(lt, 6, ip.v6TcpExt));
  seed(t, 'ipv6-mapped-src-tcp', linkWrap(lt, 6, ip.v6MappedTcp));
  seed(t, 'ipv6-fragment', linkWrap(lt, 6, ip.v6Fragment));
  // Trailing bytes after the IP packet (Ethernet pads short frames to 60 bytes).
  seed(t, 'ipv4-udp-padded', [
    ...linkWrap(lt, 4, ipv4(SRC4, DST4, 17, udpDatagram(1000, 2000))),
    ...new Array<number>(18).fill(0),
  ]);
}
seed('packet-ethernet', 'vlan-ipv4-tcp', ethernet(ETH_IPV4, ip.v4TcpSyn, [0x8100]));
seed('packet-ethernet', 'qinq-ipv6-udp', ethernet(ETH_IPV6, ip.v6Udp, [0x88a8, 0x8100]));
seed('packet-ethernet', 'three-tags', ethernet(ETH_IPV4, ip.v4TcpSyn, [0x88a8, 0x8100, 0x8100]));
seed('packet-ethernet', 'arp', ethernet(0x0806, new Array<number>(28).fill(0)));
seed('packet-linux-sll', 'outgoing', sll(ETH_IPV4, ip.v4TcpSyn, 4));
seed('packet-linux-sll2', 'outgoing', sll2(ETH_IPV4, ip.v4TcpSyn, 4));
seed('packet-null', 'ipv4-big-endian-family', nullLink(2, ip.v4TcpSyn, true));
for (const fam of [24, 28, 30]) seed('packet-null', `ipv6-family-${fam}`, nullLink(fam, ip.v6Udp));

// ---------------------------------------------------------------------------------------------
// Native SPA

for (const p of spaValidPackets()) {
  seed('spa-native', `valid-${p.name}`, p.bytes);
  seed('spa-native-body', p.name, encodeSpaBody(p.request));
}
seed(
  'spa-native-body',
  'flags-set',
  [...encodeSpaBody(spaValidPackets()[0]!.request)].map((b, i) => (i === 1 ? 1 : b)),
);
seed('spa-native', 'junk-145', derivedBytes('junk-145', 145));
seed('spa-native', 'junk-512', derivedBytes('junk-512', 512));
seed('spa-native', 'junk-513', derivedBytes('junk-513', 513));

// ---------------------------------------------------------------------------------------------
// fwknop

for (const p of fwknopValidPackets()) seed('fwknop-packet', `valid-${p.name}`, p.bytes);
seed('fwknop-packet', 'salted-prefix', `U2FsdGVkX1${'A'.repeat(150)}`);
seed('fwknop-packet', 'not-base64', `${'A'.repeat(100)}*${'A'.repeat(100)}`);
fwknopPlaintexts().forEach((p, i) => {
  seed('fwknop-plaintext', `plaintext-${i}`, p);
});
for (const [name, text] of [
  ['one-port', '10.0.0.1,tcp/22'],
  ['many-ports', '192.0.2.255,tcp/1,udp/65535,tcp/443'],
  ['zero-port', '10.0.0.1,tcp/0'],
  ['leading-zero-ip', '010.0.0.1,tcp/22'],
  ['ipv6', '2001:db8::1,tcp/22'],
  ['no-port', '10.0.0.1'],
  ['command', '10.0.0.1,echo hello'],
] as const) {
  seed('fwknop-access-message', name, text);
}

// ---------------------------------------------------------------------------------------------
// Configuration: knockgate YAML (README examples, imports of the fixtures, hand-made), knockd.conf, access.conf

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
yamlBlocks.forEach((block, i) => {
  if (/^kind: /m.test(block)) seed('key-files', `readme-${i}`, block);
  else seed('config-yaml', `readme-${i}`, block);
});
const edPublic = b64u(rawPublicOf(ed25519PrivateFromSeed(derivedBytes('ed-seed', 32))));
seed(
  'config-yaml',
  'spa-psk-and-ed25519',
  [
    'interfaces: [eth0, wg0]',
    'spa:',
    '  server_key: server.key',
    '  freshness: 90s',
    '  max_replay_entries: 5000',
    'doors:',
    '  - name: ssh',
    '    spa: { port: 62201, capture: pcap }',
    '    open: [22/tcp, "443/tcp", 51820/udp]',
    '    duration: 1m',
    '    max_duration: 1h',
    '    clients:',
    `      - { name: laptop, id: ${b64u(derivedBytes('cid-1', 16))}, psk: ${b64u(derivedBytes('psk-1', 32))} }`,
    `      - name: phone`,
    `        id: ${b64u(derivedBytes('cid-2', 16))}`,
    `        public_key: ${edPublic}`,
    '        allow: [22/tcp]',
    '        max_duration: 10m',
    '        other_address: true',
    '        widest_prefix: { ipv4: 24, ipv6: 64 }',
    '',
  ].join('\n'),
);
seed(
  'config-yaml',
  'sensors-nflog-and-kernel-log',
  [
    'interfaces: [eth0, wg0]',
    'nft_table: kg_edge',
    'sensor:',
    '  kernel-log:',
    '    prefix: "kg edge: "',
    '    source: { file: /var/log/kern.log }',
    '    log_rule: false',
    'spa:',
    '  server_key: server.key',
    'doors:',
    '  - name: ssh',
    '    sequence: [7000, 8000/udp, 9000]',
    '    open: [22/tcp]',
    '  - name: spa',
    '    spa: { port: 62201, capture: socket }',
    '    open: [443/tcp]',
    '    clients: []',
    '# sensor: { nflog: { group: 7 } }',
    '# sensor: kernel-log',
    '',
  ].join('\n'),
);
seed(
  'config-yaml',
  'knock-shell-one-time',
  [
    'interfaces: [any]',
    'firewall: none',
    'log_file: knockgate.log',
    'syslog: true',
    'pid_file: /run/knockgate.pid',
    'doors:',
    '  - name: one-time',
    '    one_time_sequences: otp.txt',
    '    sequence_timeout: 500ms',
    '    tcp_flags: "syn,!ack,!rst"',
    '    start_shell: "iptables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT"',
    '    stop_shell: "iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT"',
    '    start_shell_6: ""',
    '    target: 192.0.2.1',
    '    duration: 10s',
    '  - name: argv',
    '    sequence: [7000, 8000/udp, "9000:udp"]',
    '    start_command: ["/usr/bin/logger", "{{ip}} {ip} {door} {family} {duration} {ports}"]',
    '    command_timeout: 2m',
    '    hide_knock_ports: false',
    '',
  ].join('\n'),
);
seed(
  'config-yaml',
  'fwknop-stanzas-and-access-conf',
  [
    'interfaces: [eth0]',
    'doors:',
    '  - name: fwknop',
    '    fwknop: { port: 62201, capture: socket }',
    '    access_conf: access.conf',
    '    open: [22/tcp, 80/tcp]',
    '    duration: 30s',
    '    max_duration: 5m',
    '    stanzas:',
    '      - source: [ANY]',
    '        destination: "192.0.2.0/24, 198.51.100.1"',
    '        open_ports: [22/tcp]',
    '        restrict_ports: [23/tcp]',
    '        key_base64: "uGhNomZ1Nc3N9HLT5+2vGWj/EVcbNt9Ktc/Uy88RDeM="',
    '        hmac_key: "an hmac key"',
    '        hmac_digest_type: sha3_256',
    '        encryption_mode: legacy',
    '        fw_access_timeout: 45s',
    '        max_fw_timeout: 2m',
    '        require_username: root',
    '        require_source_address: true',
    '        access_expire_epoch: 1900000000',
    '',
  ].join('\n'),
);
seed(
  'config-yaml',
  'anchors-and-merge',
  'interfaces: &i [eth0]\ndefaults: &d { open: [22], duration: 30s }\ndoors:\n  - <<: *d\n    name: a\n    sequence: [1000]\n',
);
seed('config-yaml', 'regress-unresolved-alias', 'a: *b\n');
seed(
  'config-yaml',
  'regress-alias-in-door',
  'interfaces: [eth0]\ndoors:\n  - name: ssh\n    sequence: *seq\n    open: [22]\n',
);
for (const f of readdirSync(join(REPO_ROOT, 'test', 'fixtures', 'knockd')).sort()) {
  const text = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'knockd', f), 'utf8');
  seed('knockd-conf', f.replace(/\.conf$/, ''), text);
  seed('config-yaml', `imported-knockd-${f.replace(/\.conf$/, '')}`, importKnockdConf(f, text).yaml);
}
seed(
  'knockd-conf',
  'every-key',
  [
    '[options]',
    '  UseSyslog',
    '  LogFile = knockd.log',
    '  PidFile = /run/knockd.pid',
    '  Interface = ens3',
    '',
    '[door one]',
    '  sequence = 7000:udp,8000:TCP,9000',
    '  seq_timeout = 5',
    '  tcpflags = syn,!ack',
    '  TCPFlags = !fin',
    '  target = 192.0.2.1',
    '  start_command = /sbin/iptables -A INPUT -s %IP% -j ACCEPT',
    '  start_command_6 = /sbin/ip6tables -A INPUT -s %IP% -j ACCEPT',
    '  cmd_timeout = 20',
    '  stop_command = /sbin/iptables -D INPUT -s %IP% -j ACCEPT',
    '  stop_command_6 = /sbin/ip6tables -D INPUT -s %IP% -j ACCEPT',
    '[door one]',
    '  One_Time_Sequences = /etc/knockd/otp',
    '  Timeout = 0',
    '  Command = ',
    '',
  ].join('\n'),
);
seed('knockd-conf', 'bom-and-crlf', '\ufeff[options]\r\n\tInterface = eth0\r\n[ssh]\r\nSequence = 1,2,3\r\n');

for (const f of [
  'all-variables.conf',
  'include-main.conf',
  'loop-a.conf',
  'sample-access-keys-set.conf',
  'sample-access.conf',
  'unsupported.conf',
]) {
  seed('access-conf', f.replace(/\.conf$/, ''), fixture('fwknop', f));
}
seed('access-conf', 'conf.d-10-alpha', fixture('fwknop', 'conf.d', '10-alpha.conf'));
seed(
  'access-conf',
  'every-supported-variable',
  [
    'SOURCE              192.0.2.0/24, 10.0.0.1/255.255.255.0, 0x7f.1',
    'DESTINATION         ANY',
    'OPEN_PORTS          tcp/22, udp/53',
    'RESTRICT_PORTS      tcp/23',
    'KEY_BASE64          uGhNomZ1Nc3N9HLT5+2vGWj/EVcbNt9Ktc/Uy88RDeM=',
    'HMAC_KEY_BASE64     AQcLrswZ/UZLNMA2HWygGA9EyHCKoPhI/zawT/mq99F+PvimeGiWQU9rHTAK6nnI7H4/uNkKWnliX4cBMEsDqw==',
    'HMAC_DIGEST_TYPE    SHA512',
    'ENCRYPTION_MODE     legacy',
    'FW_ACCESS_TIMEOUT   60',
    'MAX_FW_TIMEOUT      600',
    'REQUIRE_USERNAME    root ; a comment',
    'REQUIRE_SOURCE      Y',
    'ACCESS_EXPIRE       12/31/2030',
    '',
    'SOURCE: ANY',
    'KEY                 a passphrase',
    'HMAC_KEY            another passphrase',
    'ACCESS_EXPIRE_EPOCH 1900000000',
    '%include            include/first.conf',
    '',
  ].join('\n'),
);
const accessImport = importAccessConf(join(REPO_ROOT, 'test', 'fixtures', 'fwknop', 'sample-access-keys-set.conf'));
seed(
  'config-yaml',
  'imported-access-conf',
  accessImport.yaml.split(`${join(REPO_ROOT, 'test', 'fixtures', 'fwknop')}/`).join(''),
);

// ---------------------------------------------------------------------------------------------
// Key files, one-time sequences, the replay journal

seed('key-files', 'server-key', serverKeyText(derivedBytes('server', 32), SPA_SERVER.publicKey));
seed(
  'key-files',
  'client-psk',
  clientCredentialText({
    name: 'laptop',
    server: 'gate.example',
    port: 62201,
    serverPublicKey: SPA_SERVER.publicKey,
    doorId: 'gw',
    clientId: derivedBytes('cid-1', 16),
    psk: derivedBytes('psk-1', 32),
  }),
);
seed(
  'key-files',
  'client-ed25519-ports',
  `${clientCredentialText({
    name: 'phone',
    port: 1,
    serverPublicKey: SPA_SERVER.publicKey,
    doorId: 'gw',
    clientId: derivedBytes('cid-2', 16),
    privateKey: derivedBytes('ed-seed', 32),
  })}ports: [22/tcp, "51820/udp", 443]\n`,
);
seed(
  'key-files',
  'client-empty-server',
  'kind: knockgate-client-v1\nname: ""\nserver: ""\nport: 9\nserver_public_key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nclient_id: AAAAAAAAAAAAAAAAAAAAAA\npsk: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n',
);
seed(
  'key-files',
  'client-ssh-key',
  clientCredentialText({
    name: 'laptop',
    port: 62201,
    serverPublicKey: SPA_SERVER.publicKey,
    doorId: 'gw',
    clientId: derivedBytes('cid-3', 16),
    sshKey: {
      raw: rawPublicOf(ed25519PrivateFromSeed(derivedBytes('ssh-seed', 32))),
      blob: sshEd25519Blob(rawPublicOf(ed25519PrivateFromSeed(derivedBytes('ssh-seed', 32)))),
      comment: 'alice@laptop',
    },
  }),
);
seed('key-files', 'wrong-kind', 'kind: knockgate-server-key-v2\nprivate_key: AAAA\n');
seed('spa-raw-keys', 'x25519-private-32', derivedBytes('server', 32));
seed('spa-raw-keys', 'ed25519-public-32', rawPublicOf(ed25519PrivateFromSeed(derivedBytes('ed-seed', 32))));
seed('spa-raw-keys', 'all-ones-32', new Uint8Array(32).fill(0xff));
seed('spa-raw-keys', 'short-31', derivedBytes('short', 31));

seed(
  'one-time-sequences',
  'knockd-style',
  '# one-time sequences for door ssh\n7000,8000,9000\n#000,8001,9001\n7002:udp 8002 9002/tcp\n\n  7003, 8003/UDP\n',
);
seed('one-time-sequences', 'crlf', '1000,2000\r\n#used\r\n3000,4000/udp\r\n');
seed('one-time-sequences', 'bad-port', '1000,2000\n70000,1\n');
seed('one-time-sequences', 'max-steps', `${Array.from({ length: 32 }, (_, i) => 1000 + i).join(',')}\n`);
seed('one-time-sequences', 'regress-nbsp-first', '\u00a07000,8000\n9000,9001\n');
seed('one-time-sequences', 'regress-latin1-comment', [
  ...Buffer.from('# caf'),
  0xe9,
  0x20,
  0xe9,
  ...Buffer.from('\n7000,8000\n9000\n'),
]);
seed('one-time-sequences', 'regress-bom', '\ufeff7000,8000\n9000\n');

const key1 = Buffer.from(derivedBytes('rk1', 32)).toString('hex');
const key2 = Buffer.from(derivedBytes('rk2', 16)).toString('hex');
seed('replay-journal', 'two-records', `1700000060000 ${key1}\n9999999999999999 ${key2}\n`);
seed('replay-journal', 'torn-last-line', `1700000060000 ${key1}\n99999999999 ${key2.slice(0, 9)}`);
seed(
  'replay-journal',
  'foreign-lines',
  `hello\n\n1 a\n12345678901234567 ${key2}\n1700000060000 ${key1.toUpperCase()}\n1700000060000 ${'f'.repeat(129)}\n`,
);

// ---------------------------------------------------------------------------------------------

rmSync(CORPUS_DIR, { recursive: true, force: true });
let total = 0;
let files = 0;
for (const [target, seeds] of [...corpus].sort()) {
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of seeds) {
    writeFileSync(join(dir, name), bytes);
    total += statSync(join(dir, name)).size;
    files++;
  }
}
console.log(`make-corpus: ${files} seeds in ${corpus.size} targets, ${total} bytes, under ${CORPUS_DIR}`);
