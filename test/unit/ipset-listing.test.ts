/**
 * src/gates/ipset-listing.ts on the text ipset 7.17 prints (`ipset list -output save SET`, the
 * lines below were printed by it on this project's test machine) and on what it must not trust.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_GRANT_DURATION_S, MAX_IPSET_LINE_CHARS } from '../../src/core/limits.js';
import { grantsFromIpsetSave } from '../../src/gates/ipset-listing.js';

const G4 = { name: 'kg_t_g4', family: 4, kind: 'ip' } as const;
const N6 = { name: 'kg_t_n6', family: 6, kind: 'net' } as const;

describe('ipset save listing', () => {
  it('reads the entries of the set asked about, with the seconds left', () => {
    const text = [
      'create kg_t_g4 hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x06858e8b',
      'add kg_t_g4 198.18.0.1,tcp:22 timeout 49',
      'add kg_t_g4 198.18.0.2,udp:53 timeout 7',
      'add kg_t_g40 198.18.0.3,tcp:22 timeout 7',
      'add other 198.18.0.4,tcp:22 timeout 7',
      '',
    ].join('\n');
    assert.deepEqual(grantsFromIpsetSave(text, G4), [
      { source: '198.18.0.1', family: 4, endpoint: { proto: 'tcp', port: 22 }, expiresInS: 49 },
      { source: '198.18.0.2', family: 4, endpoint: { proto: 'udp', port: 53 }, expiresInS: 7 },
    ]);
  });

  it('IPv6 prefixes: cut at the last comma, canonical and masked, a full-length entry keeps its /128', () => {
    const text = [
      'create kg_t_n6 hash:net,port family inet6 hashsize 1024 maxelem 65536 timeout 0',
      'add kg_t_n6 2001:db8::/64,udp:53 timeout 40',
      'add kg_t_n6 2001:DB8:0:0:0:0:0:5,tcp:22 timeout 3',
      'add kg_t_n6 2001:db8:1::/48,tcp:22 nomatch',
    ].join('\n');
    assert.deepEqual(grantsFromIpsetSave(text, N6), [
      { source: '2001:db8::/64', family: 6, endpoint: { proto: 'udp', port: 53 }, expiresInS: 40 },
      { source: '2001:db8::5/128', family: 6, endpoint: { proto: 'tcp', port: 22 }, expiresInS: 3 },
    ]);
  });

  it('skips what it cannot trust: other families, protocols, bad ports, timeouts, prefixes in an ip set, long lines', () => {
    const text = [
      'add kg_t_g4 2001:db8::1,tcp:22 timeout 5',
      'add kg_t_g4 198.18.0.1,icmp:8/0 timeout 5',
      'add kg_t_g4 198.18.0.1,tcp:65536 timeout 5',
      'add kg_t_g4 198.18.0.1,tcp:22 timeout -5',
      'add kg_t_g4 198.18.0.1,tcp:22 timeout',
      'add kg_t_g4 198.18.0.0/24,tcp:22 timeout 5',
      'add kg_t_g4 198.18.0.1tcp:22 timeout 5',
      `add kg_t_g4 198.18.0.9,tcp:22 timeout 5 comment "${'x'.repeat(MAX_IPSET_LINE_CHARS)}"`,
      'add kg_t_g4 198.18.0.1,tcp:22',
      'add kg_t_g4 198.18.0.2,tcp:22 timeout 99999999',
    ].join('\n');
    assert.deepEqual(grantsFromIpsetSave(text, G4), [
      { source: '198.18.0.1', family: 4, endpoint: { proto: 'tcp', port: 22 }, expiresInS: 0 },
      { source: '198.18.0.2', family: 4, endpoint: { proto: 'tcp', port: 22 }, expiresInS: MAX_GRANT_DURATION_S },
    ]);
  });

  it('an IPv4-mapped address is never read from an inet6 set', () => {
    assert.deepEqual(grantsFromIpsetSave('add kg_t_n6 ::ffff:198.18.0.1/128,tcp:22 timeout 5\n', N6), []);
  });
});
