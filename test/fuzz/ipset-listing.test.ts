// Invariant: grantsFromIpsetSave never throws on any text and any of the four grant sets; every grant it returns is of the set's family, has a canonical source (an address for an `ip` set, a masked network with a length in 1..bits for a `net` set), tcp or udp, a port in 0-65535 and whole seconds in 0..MAX_GRANT_DURATION_S; it returns no more grants than the text has lines; and the grants written back as the lines ipset prints (ipsetElement) read back identically.
/**
 * Fuzz target for src/gates/ipset-listing.ts, the iptables gate's reader of `ipset list -output
 * save` (corpus/ipset-save/: listings ipset 7.17 printed on the test machine).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIPAddress, maskIPAddress, parseIPAddress } from '../../src/core/ip-address.js';
import { MAX_GRANT_DURATION_S } from '../../src/core/limits.js';
import { grantsFromIpsetSave } from '../../src/gates/ipset-listing.js';
import { grantSets, ipsetElement, iptablesNames } from '../../src/gates/iptables-ruleset.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

const SETS = grantSets(iptablesNames('t'));

function check(input: Uint8Array): string {
  const text = Buffer.from(input).toString('utf8');
  const lines = text.split('\n').length;
  let found = 0;
  for (const set of SETS) {
    const grants = grantsFromIpsetSave(text, set);
    assert.ok(grants.length <= lines);
    const back: string[] = [];
    for (const g of grants) {
      assert.equal(g.family, set.family);
      assert.ok(g.endpoint.proto === 'tcp' || g.endpoint.proto === 'udp');
      assert.ok(Number.isInteger(g.endpoint.port) && g.endpoint.port >= 0 && g.endpoint.port <= 65_535);
      assert.ok(Number.isInteger(g.expiresInS) && g.expiresInS >= 0 && g.expiresInS <= MAX_GRANT_DURATION_S);
      const slash = g.source.indexOf('/');
      assert.equal(slash >= 0, set.kind === 'net', g.source);
      const address = parseIPAddress(slash < 0 ? g.source : g.source.slice(0, slash));
      assert.ok(address !== null && address.family === set.family, g.source);
      const len = slash < 0 ? (set.family === 4 ? 32 : 128) : Number(g.source.slice(slash + 1));
      assert.ok(len >= 1 && len <= (set.family === 4 ? 32 : 128));
      assert.equal(formatIPAddress(maskIPAddress(address, len)), slash < 0 ? g.source : g.source.slice(0, slash));
      const element = ipsetElement(set.family, g.source, g.endpoint);
      assert.ok(element !== null, g.source);
      back.push(`add ${set.name} ${element} timeout ${g.expiresInS}`);
    }
    assert.deepEqual(grantsFromIpsetSave(back.join('\n'), set), grants, 'written back, read back');
    found += grants.length;
  }
  return found === 0 ? 'none' : found === 1 ? 'one' : 'several';
}

describe('fuzz: ipset save listing', () => {
  it('ipset-save', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'ipset-save',
      kind: 'text',
      maxBytes: 4096,
      dictionary: [
        'add kg_t_g4 ',
        'add kg_t_n4 ',
        'add kg_t_g6 ',
        'add kg_t_n6 ',
        ',tcp:',
        ',udp:',
        ' timeout ',
        ' nomatch',
        '/24',
        '/128',
        '::ffff:',
        '2001:db8::',
        '198.18.0.1',
        '\n',
      ],
      check,
    });
  });
});
