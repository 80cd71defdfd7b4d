/**
 * Covers src/core/proc-net-tcp.ts (parseProcNetTcp, on rows copied from a Linux 6.18 x86-64 host:
 * a dual-stack listener on :22, an IPv4 peer seen through tcp6 as ::ffff:a.b.c.d, an IPv6 peer)
 * and src/core/proc-net-conntrack.ts (parseConntrack, on two entries of the same host), and
 * src/core/lockout.ts (lockoutRisks: what the ruleset's exemptions and grants cover; describeRisk).
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeRisk, lockoutRisks, type Session } from '../../src/core/lockout.js';
import { parseConntrack, tupleKey } from '../../src/core/proc-net-conntrack.js';
import { parseProcNetTcp } from '../../src/core/proc-net-tcp.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 01FA12C6:E05E 01FA12C6:0016 01 00000000:00000000 00:00000000 00000000     0        0 1179647 2 000000009b54473e 20 0 0 10 -1
   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1179646 1 00000000ac0fa9a0 100 0 0 10 0
   1: 0000000000000000FFFF000001FA12C6:0016 0000000000000000FFFF000001FA12C6:E05E 01 00000000:00000000 00:00000000 00000000     0        0 1179648 1 00000000c5a88241 20 0 0 10 -1
   2: B80D0120000009000000000001000000:0016 B80D0120000009000000000001000000:DF06 01 00000000:00000000 00:00000000 00000000     0        0 1180675 1 00000000cf738af3 20 0 0 10 -1
`;

describe('parseProcNetTcp', () => {
  it('reads an IPv4 row (little-endian words) and skips the header and listening rows', () => {
    assert.deepEqual(parseProcNetTcp(TCP, true), [
      { localAddress: '198.18.250.1', localPort: 0xe05e, remoteAddress: '198.18.250.1', remotePort: 22 },
    ]);
  });
  it('reads IPv6 rows; an IPv4-mapped peer comes back as IPv4', () => {
    assert.deepEqual(parseProcNetTcp(TCP6, true), [
      { localAddress: '198.18.250.1', localPort: 22, remoteAddress: '198.18.250.1', remotePort: 0xe05e },
      { localAddress: '2001:db8:9::1', localPort: 22, remoteAddress: '2001:db8:9::1', remotePort: 0xdf06 },
    ]);
  });
  it('reads big-endian words as a big-endian host prints them', () => {
    const row = '   0: C612FA01:0016 C612FA02:D431 01 00000000:00000000 00:00000000 00000000 0 0 1 1 0 20 0 0 10 -1\n';
    assert.deepEqual(parseProcNetTcp(row, false), [
      { localAddress: '198.18.250.1', localPort: 22, remoteAddress: '198.18.250.2', remotePort: 0xd431 },
    ]);
  });
  it('skips rows that do not parse instead of throwing', () => {
    assert.deepEqual(parseProcNetTcp('garbage\n   0: 01FA12C6:E05E 01FA12:0016 01 x\n\n', true), []);
  });
});

describe('parseConntrack', () => {
  const TABLE = `ipv6     10 tcp      6 431999 ESTABLISHED src=2001:0db8:0251:0000:0000:0000:0000:0002 dst=2001:0db8:0251:0000:0000:0000:0000:0001 sport=47448 dport=2222 src=2001:0db8:0251:0000:0000:0000:0000:0001 dst=2001:0db8:0251:0000:0000:0000:0000:0002 sport=2222 dport=47448 [ASSURED] mark=0 zone=0 use=2
ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.251.2 dst=198.18.251.1 sport=56298 dport=2222 src=198.18.251.1 dst=198.18.251.2 sport=2222 dport=56298 [ASSURED] mark=0 zone=0 use=2
ipv4     2 udp      17 29 src=198.18.251.2 dst=198.18.251.1 sport=5000 dport=53 [UNREPLIED] src=198.18.251.1 dst=198.18.251.2 sport=53 dport=5000 mark=0 zone=0 use=2
`;
  it('keeps the TCP entries by their original tuple, IPv6 in canonical text; skips UDP', () => {
    assert.deepEqual(
      [...parseConntrack(TABLE)],
      [
        tupleKey('2001:db8:251::2', 47448, '2001:db8:251::1', 2222),
        tupleKey('198.18.251.2', 56298, '198.18.251.1', 2222),
      ],
    );
  });
});

const ssh = { proto: 'tcp', port: 22 } as const;
const config = { doors: [{ open: [ssh, { proto: 'udp', port: 22 } as const] }], exemptInterfaces: ['mgmt0'] };
const session = (over: Partial<Session> = {}): Session => ({
  localAddress: '198.18.0.1',
  localPort: 22,
  remoteAddress: '198.18.0.2',
  remotePort: 50_000,
  interface: 'eth0',
  tracked: false,
  ...over,
});

describe('lockoutRisks', () => {
  it('names an established session to a protected port that nothing covers', () => {
    const risks = lockoutRisks(config, [session()], []);
    assert.deepEqual(risks, [
      { endpoint: ssh, remoteAddress: '198.18.0.2', remotePort: 50_000, localAddress: '198.18.0.1', tracked: false },
    ]);
  });
  it('says what happens to the session by whether conntrack follows it; the next connection is dropped in every case', () => {
    const said = (tracked: boolean | null) =>
      describeRisk(lockoutRisks(config, [session({ tracked })], [])[0] as never);
    assert.match(said(true), /from 198\.18\.0\.2 to port 22\/tcp stays up/);
    assert.match(said(false), /from 198\.18\.0\.2 to port 22\/tcp will be cut off when knockgated installs its table/);
    assert.match(said(null), /may be cut off/);
    for (const t of [true, false, null])
      assert.match(said(t), /a new connection from 198\.18\.0\.2 to port 22\/tcp will be dropped/);
  });
  it('ignores ports no door opens, and sessions on lo or an exempt interface', () => {
    assert.deepEqual(
      lockoutRisks(
        config,
        [session({ localPort: 2222 }), session({ interface: 'lo' }), session({ interface: 'mgmt0' })],
        [],
      ),
      [],
    );
  });
  it('an unknown interface is covered only for a loopback peer', () => {
    assert.equal(lockoutRisks(config, [session({ interface: null })], []).length, 1);
    assert.deepEqual(lockoutRisks(config, [session({ interface: null, remoteAddress: '127.0.0.5' })], []), []);
    assert.deepEqual(lockoutRisks(config, [session({ interface: null, remoteAddress: '::1' })], []), []);
  });
  it('a live grant covers its address or prefix, for its port and family only', () => {
    const grant = (source: string, family: 4 | 6, port = 22, expiresInS = 30) => ({
      source,
      family,
      endpoint: { proto: 'tcp', port } as const,
      expiresInS,
    });
    assert.deepEqual(lockoutRisks(config, [session()], [grant('198.18.0.2', 4)]), []);
    assert.deepEqual(lockoutRisks(config, [session()], [grant('198.18.0.0/24', 4)]), []);
    assert.equal(lockoutRisks(config, [session()], [grant('198.18.1.0/24', 4)]).length, 1);
    assert.equal(lockoutRisks(config, [session()], [grant('198.18.0.2', 4, 2222)]).length, 1);
    assert.equal(lockoutRisks(config, [session()], [grant('198.18.0.2', 4, 22, 0)]).length, 1);
    const v6 = session({ remoteAddress: '2001:db8:1::2' });
    assert.deepEqual(lockoutRisks(config, [v6], [grant('2001:db8:1::/64', 6)]), []);
    assert.equal(lockoutRisks(config, [v6], [grant('198.18.0.2', 4)]).length, 1);
  });
});
