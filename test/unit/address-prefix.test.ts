/**
 * Covers src/core/address-prefix.ts: ADDRESS or ADDRESS/PREFIX as knock --allow-ip and a
 * credential's allow_ip give it, and the messages a user sees when it is wrong.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressPrefix } from '../../src/core/address-prefix.js';
import { formatIPAddress } from '../../src/core/ip-address.js';

function shown(text: string): string {
  const r = parseAddressPrefix(text);
  return 'error' in r ? `error: ${r.error}` : `${formatIPAddress(r.address)}/${r.prefix}`;
}

describe('parseAddressPrefix', () => {
  it('an address alone is that address: /32 or /128', () => {
    assert.equal(shown('198.18.0.7'), '198.18.0.7/32');
    assert.equal(shown('2001:db8::7'), '2001:db8::7/128');
  });
  it('a prefix is kept as given, within the family', () => {
    assert.equal(shown('198.18.0.0/24'), '198.18.0.0/24');
    assert.equal(shown('2001:db8::/33'), '2001:db8::/33');
    assert.equal(shown('198.18.0.1/1'), '198.18.0.1/1');
  });
  it('refuses what is not an address, naming the input', () => {
    assert.equal(shown('nope'), 'error: expected ADDRESS or ADDRESS/PREFIX, got "nope"');
    assert.equal(shown('/24'), 'error: expected ADDRESS or ADDRESS/PREFIX, got "/24"');
  });
  it('refuses a prefix outside 1 to the full length, or not a whole number', () => {
    assert.equal(shown('198.18.0.0/33'), 'error: prefix must be 1 to 32');
    assert.equal(shown('198.18.0.0/0'), 'error: prefix must be 1 to 32');
    assert.equal(shown('2001:db8::/129'), 'error: prefix must be 1 to 128');
    assert.equal(shown('198.18.0.0/2x'), 'error: prefix must be 1 to 32');
    assert.equal(shown('198.18.0.0/'), 'error: prefix must be 1 to 32');
  });
});
