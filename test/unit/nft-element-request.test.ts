/**
 * The worker's fast path for grants (src/gates/nft-element-request.ts): the key bytes it asks the
 * kernel to store, and that anything but grant-set element changes is left to the JSON path.
 * test/integration/nft-transport.test.ts checks on the real kernel that both paths leave the same
 * elements.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { elementRequest } from '../../src/gates/nft-element-request.js';
import { installBatch, setGrantCommands } from '../../src/gates/nftables-ruleset.js';

describe('element requests for the worker', () => {
  it('encodes an IPv4 address . tcp . port as padded fields, key end = key, timeout in ms', () => {
    const req = elementRequest(setGrantCommands('knockgate', '198.18.7.1', 4, { proto: 'tcp', port: 22 }, 30, false));
    assert.equal(req, '@elements inet knockgate\nA grants4 c61207010600000000160000 c61207010600000000160000 30000\n');
  });

  it('encodes a refresh as add, delete, add in order, and a prefix as the range network..last address', () => {
    const req = elementRequest(setGrantCommands('kg', '198.18.8.0/23', 4, { proto: 'udp', port: 62201 }, 5, true));
    const key = 'c6120800' + '11000000' + 'f2f90000';
    const end = 'c61209ff' + '11000000' + 'f2f90000';
    assert.equal(
      req,
      `@elements inet kg\nA grants4 ${key} ${end} 5000\nD grants4 ${key} ${end}\nA grants4 ${key} ${end} 5000\n`,
    );
  });

  it('encodes IPv6 addresses and prefixes (a /48 ends in 80 one bits)', () => {
    const one = elementRequest(setGrantCommands('kg', '2001:db8::1', 6, { proto: 'tcp', port: 443 }, 60, false));
    assert.equal(
      one,
      `@elements inet kg\nA grants6 20010db80000000000000000000000010600000001bb0000 20010db80000000000000000000000010600000001bb0000 60000\n`,
    );
    const wide = elementRequest(setGrantCommands('kg', '2001:db8:ffff::/48', 6, { proto: 'tcp', port: 22 }, 60, false));
    const tail = '0600000000160000';
    assert.equal(
      wide,
      `@elements inet kg\nA grants6 20010db8ffff00000000000000000000${tail} 20010db8ffffffffffffffffffffffff${tail} 60000\n`,
    );
  });

  it('puts several grants of one batch in one request, in order', () => {
    const cmds = [
      ...setGrantCommands('kg', '198.18.7.1', 4, { proto: 'tcp', port: 22 }, 30, false),
      ...setGrantCommands('kg', '2001:db8::2', 6, { proto: 'tcp', port: 22 }, 30, false),
    ];
    const lines = (elementRequest(cmds) as string).split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['@elements inet', 'A grants4', 'A grants6', ''],
    );
  });

  it('leaves everything else to JSON: an install batch, another set, another table in the same batch, a family mismatch, odd shapes', () => {
    const layout = {
      protectedPorts: [{ proto: 'tcp' as const, port: 22 }],
      hiddenPorts: [],
      untrackedUdpPorts: [],
      exemptInterfaces: [],
    };
    assert.equal(elementRequest(installBatch('kg', layout, [])), null);
    assert.equal(elementRequest([]), null);
    const good = setGrantCommands('kg', '198.18.7.1', 4, { proto: 'tcp', port: 22 }, 30, false);
    assert.equal(
      elementRequest([...good, ...setGrantCommands('other', '198.18.7.2', 4, { proto: 'tcp', port: 22 }, 30, false)]),
      null,
    );
    assert.equal(
      elementRequest([
        { add: { element: { family: 'inet', table: 'kg', name: 'protected', elem: [{ concat: ['tcp', 22] }] } } },
      ]),
      null,
    );
    assert.equal(
      elementRequest(setGrantCommands('kg', '2001:db8::1', 4, { proto: 'tcp', port: 22 }, 30, false)),
      null,
      'an IPv6 address for grants4',
    );
    assert.equal(
      elementRequest(setGrantCommands('kg', '198.18.7.1', 4, { proto: 'tcp', port: 22 }, 0, false)),
      null,
      'no zero timeout',
    );
    assert.equal(
      elementRequest(setGrantCommands('kg', '198.18.7.1/33', 4, { proto: 'tcp', port: 22 }, 30, false)),
      null,
    );
    assert.equal(
      elementRequest(setGrantCommands('bad name', '198.18.7.1', 4, { proto: 'tcp', port: 22 }, 30, false)),
      null,
    );
    assert.equal(
      elementRequest([
        {
          add: {
            element: {
              family: 'ip',
              table: 'kg',
              name: 'grants4',
              elem: [{ elem: { val: { concat: ['198.18.7.1', 'tcp', 22] }, timeout: 1 } }],
            },
          },
        },
      ]),
      null,
    );
    assert.equal(
      elementRequest([
        {
          add: {
            element: {
              family: 'inet',
              table: 'kg',
              name: 'grants4',
              elem: [{ elem: { val: { concat: ['198.18.7.1', 'tcp', 22] }, timeout: 1, expires: 1 } }],
            },
          },
        },
      ]),
      null,
    );
  });
});
