/**
 * Reading ~/.fwknoprc as the fwknop 2.6 client does (client/fwknoprc.ts): stanzas, [default] under
 * a named stanza, an HMAC key implying HMAC, fwknop's variable names and ACCESS's PROTO/PORT
 * order; what cannot be sent as fwknop would is refused with its line, the client's own settings
 * are ignored with a warning.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fwknoprcSettings, parseFwknoprc } from '../../src/client/fwknoprc.js';
import { ConfigError } from '../../src/core/errors.js';

const FILE = '/home/u/.fwknoprc';
const rc = (...lines: string[]) => parseFwknoprc(FILE, `${lines.join('\n')}\n`);
const refusedAt = (fn: () => unknown, line: number | undefined, key: string | undefined, re: RegExp): void => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.line, line, err.message);
    assert.equal(err.key, key, err.message);
    assert.match(err.detail, re);
    return;
  }
  assert.fail('accepted');
};

describe('~/.fwknoprc', () => {
  const SAVED = [
    '# written by fwknop --save-rc-stanza',
    '[default]',
    'SPA_SERVER_PORT             40001',
    'ACCESS                      tcp/2222',
    '',
    '[gw]',
    'ALLOW_IP                    198.18.0.2',
    'ACCESS                      tcp/22, udp/53',
    'SPA_SERVER                  gw.example.net',
    'KEY_BASE64                  a2V5a2V5',
    'HMAC_KEY_BASE64             aG1hYw==',
    'USE_HMAC                    Y',
    'NO_SAVE_ARGS                Y',
  ];

  it("a named stanza over [default]: its own lines win, the default's fill in", () => {
    const s = fwknoprcSettings(FILE, rc(...SAVED), 'gw');
    assert.equal(s.stanza, 'gw');
    assert.equal(s.server, 'gw.example.net');
    assert.equal(s.port, 40001);
    assert.deepEqual(s.ports, [
      { proto: 'tcp', port: 22 },
      { proto: 'udp', port: 53 },
    ]);
    assert.equal(s.allow, '198.18.0.2');
    assert.deepEqual(s.key, { text: 'a2V5a2V5', base64: true });
    assert.deepEqual(s.hmacKey, { text: 'aG1hYw==', base64: true });
    assert.deepEqual(s.warnings, [`${FILE}:13: NO_SAVE_ARGS is fwknop's own setting; ignored`]);
  });

  it('an HMAC key means HMAC whatever USE_HMAC says; USE_HMAC Y without a key is refused', () => {
    const off = fwknoprcSettings(FILE, rc('[a]', 'KEY pass', 'HMAC_KEY h', 'USE_HMAC N'), 'a');
    assert.deepEqual(off.hmacKey, { text: 'h', base64: false });
    refusedAt(() => fwknoprcSettings(FILE, rc('[a]', 'KEY pass', 'USE_HMAC Y'), 'a'), 3, 'USE_HMAC', /no HMAC_KEY/);
  });

  it('ALLOW_IP source and resolve (which needs RESOLVE_URL); FW_TIMEOUT and SPOOF_USER', () => {
    const src = fwknoprcSettings(FILE, rc('[a]', 'KEY k', 'ALLOW_IP source', 'FW_TIMEOUT 90', 'SPOOF_USER bob'), 'a');
    assert.equal(src.allow, 'source');
    assert.equal(src.durationS, 90);
    assert.equal(src.user, 'bob');
    const res = fwknoprcSettings(
      FILE,
      rc('[a]', 'KEY k', 'ALLOW_IP resolve', 'RESOLVE_URL https://ip.example.net/'),
      'a',
    );
    assert.equal(res.allow, 'resolve');
    assert.equal(res.resolveUrl, 'https://ip.example.net/');
    refusedAt(
      () => fwknoprcSettings(FILE, rc('[a]', 'KEY k', 'ALLOW_IP resolve'), 'a'),
      3,
      'ALLOW_IP',
      /needs RESOLVE_URL/,
    );
  });

  it('what would send something else than fwknop is refused by name and line', () => {
    for (const [line, key, re] of [
      ['USE_GPG Y', 'USE_GPG', /needs GPG_RECIPIENT/],
      ['NAT_ACCESS 192.168.1.2,22', 'NAT_ACCESS', /NAT access/],
      ['SPA_SERVER_PROTO tcp', 'SPA_SERVER_PROTO', /UDP only/],
      ['RAND_PORT Y', 'RAND_PORT', /random destination ports/],
      ['KEY_FILE /x', 'KEY_FILE', /KEY_BASE64/],
      ['DIGEST_TYPE md5', 'DIGEST_TYPE', /SHA256 only/],
      ['SPA_SERVER_PORT 99999', 'SPA_SERVER_PORT', /not a port/],
      ['ACCESS 22/tcp', 'ACCESS', /PROTO\/PORT/],
    ] as const)
      refusedAt(() => fwknoprcSettings(FILE, rc('[a]', 'KEY k', line), 'a'), 3, key, re);
    // USE_GPG N is fwknop's default: nothing to refuse.
    assert.equal(fwknoprcSettings(FILE, rc('[a]', 'KEY k', 'USE_GPG N'), 'a').stanza, 'a');
  });

  it('USE_GPG Y: GnuPG sending, needing no KEY; its GPG_* become the credential fields', () => {
    const s = fwknoprcSettings(
      FILE,
      rc(
        '[g]',
        'USE_GPG Y',
        'GPG_RECIPIENT 0123456789ABCDEF',
        'GPG_SIGNER alice@example.net',
        'GPG_HOMEDIR /home/u/.gnupg',
        `GPG_SIGNING_PW_BASE64 ${Buffer.from('pw 1').toString('base64')}`,
        'HMAC_KEY_BASE64 aG1hYw==',
      ),
      'g',
    );
    assert.equal(s.key, null);
    assert.deepEqual(s.gpg, {
      gpg_recipient: '0123456789ABCDEF',
      gpg_signer: 'alice@example.net',
      gpg_home_dir: '/home/u/.gnupg',
      gpg_signing_pw: 'pw 1',
    });
    assert.deepEqual(s.hmacKey, { text: 'aG1hYw==', base64: true });
  });

  it('a stanza without a key, a missing stanza, a line that is neither, a variable before any stanza', () => {
    refusedAt(() => fwknoprcSettings(FILE, rc('[a]', 'ACCESS tcp/22'), 'a'), undefined, 'KEY', /no KEY or KEY_BASE64/);
    refusedAt(
      () => fwknoprcSettings(FILE, rc('[a]', 'KEY k'), 'b'),
      undefined,
      undefined,
      /no stanza \[b\] \(stanzas: a\)/,
    );
    refusedAt(() => rc('[a]', 'key k'), 2, undefined, /not a \[STANZA\] line/);
    refusedAt(() => rc('KEY k', '[a]'), 1, 'KEY', /before any \[stanza\]/);
  });

  it('unknown variables are ignored with a warning, as fwknop ignores them', () => {
    const s = fwknoprcSettings(FILE, rc('[a]', 'KEY k', 'COLOUR red'), 'a');
    assert.deepEqual(s.warnings, [`${FILE}:3: unknown variable COLOUR; ignored (as fwknop ignores it)`]);
  });
});
