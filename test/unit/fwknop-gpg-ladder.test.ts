/**
 * Covers the GnuPG rung of the fwknop ladder (src/core/spa/fwknop-gpg-rung.ts, fwknop-gpg.ts,
 * gpg-status.ts) with a fake decrypter: what goes to gpg (only packets whose HMAC holds, "hQ"
 * restored), fwknopd's signature rules (GPG_REQUIRE_SIG, GPG_IGNORE_SIG_VERIFY_ERROR,
 * GPG_REMOTE_ID, GPG_FINGERPRINT_ID), the budget of gpg runs, and gpg's status lines.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import type { Door } from '../../src/core/door.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import { KnownSources } from '../../src/core/known-sources.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import { FwknopLadder, type NeedsDigestLookup } from '../../src/core/spa/fwknop-ladder.js';
import type { GpgDecryptResult, GpgSignature } from '../../src/core/spa/fwknop-gpg.js';
import { gpgHmacOf } from '../../src/core/spa/fwknop-gpg.js';
import type { GpgAllowance, NeedsGpgDecrypt } from '../../src/core/spa/fwknop-gpg-rung.js';
import { encodeFwknopPlaintext } from '../../src/core/spa/fwknop-message.js';
import { parseGpgStatus } from '../../src/core/spa/gpg-status.js';

const T0_S = 1_790_000_000;
const SOURCE = '198.18.0.2';
const SIGNER_FPR = 'ABEE6016AC8DCA1753322573818F9148FA940D2C';
const SIGNER_SUB = '510CEDEBD6C8B46F965DB032C9337033C592CDA9';
const HMAC = 'gpg-stanza-hmac-key';

function door(...gpgStanzas: string[]): Door {
  const yaml = [
    'interfaces: [eth0]',
    'doors:',
    '  - name: fw',
    '    fwknop: {port: 62201}',
    '    open: [22]',
    '    stanzas:',
    ...gpgStanzas.map((s) => `      - ${s}`),
  ].join('\n');
  return parseConfigText('/nonexistent/knockgate.yaml', yaml).doors[0] as Door;
}
const gpgStanza = (gpg: string, extra = '') =>
  `{source: ANY${extra}, gpg: {home_dir: /g, decrypt_id: ED3B28FD9EC18797, decrypt_pw: pw, ${gpg}}}`;

/** A GnuPG-shaped packet: 600 base64 characters (what gpg would decrypt is up to the fake), HMAC appended if given. */
function packet(hmacKey?: string): Uint8Array {
  let body = randomBytes(450).toString('base64').replace(/=+$/, '');
  if (body.startsWith('hQ')) body = `A${body.slice(1)}`;
  if (hmacKey === undefined) return new Uint8Array(Buffer.from(body, 'latin1'));
  const tag = gpgHmacOf('sha256', Buffer.from(hmacKey))
    .key.mac(Buffer.from('hQ'), Buffer.from(body, 'latin1'))
    .toString('base64')
    .replace(/=+$/, '');
  return new Uint8Array(Buffer.from(body + tag, 'latin1'));
}
const plaintext = (username = 'alice') =>
  new Uint8Array(
    Buffer.from(
      encodeFwknopPlaintext(
        { username, timestamp: T0_S, messageType: 1, message: `${SOURCE},tcp/22`, clientTimeout: null },
        '1234567890123456',
      ),
      'latin1',
    ),
  );
const good: GpgSignature = { status: 'good', keyIds: [SIGNER_SUB, SIGNER_FPR] };
const decrypted = (signature: GpgSignature | null): GpgDecryptResult => ({
  kind: 'decrypted',
  plaintext: plaintext(),
  signature,
});

const allowance = (rate = 1000, max = 2): GpgAllowance => ({
  knownSources: new KnownSources(100, 60_000),
  budget: new WorkBudget(rate, rate),
  runs: { active: 0, max },
});
const generous = () => ({ knownSources: new KnownSources(100, 60_000), budget: new WorkBudget(1e6, 1e6) });
function datagram(payload: Uint8Array) {
  return {
    payload,
    source: parseIPAddress(SOURCE) as NonNullable<ReturnType<typeof parseIPAddress>>,
    sourceText: SOURCE,
  };
}

/** The ladder up to the gpg runs; then each trial given `result`; the first outcome that is not a GnuPG refusal, or the last. */
function run(d: Door, bytes: Uint8Array, result: GpgDecryptResult): { reason: string; asked: NeedsGpgDecrypt | null } {
  const ladder = new FwknopLadder(d, 120_000);
  const dg = datagram(bytes);
  const pre = ladder.beforeCrypto(dg, 1000, generous());
  if (pre.kind === 'reject') return { reason: pre.reason, asked: null };
  const step = ladder.open(dg, pre as NeedsDigestLookup, T0_S * 1000);
  if (step.kind !== 'needs-gpg-decrypt')
    return { reason: step.kind === 'reject' ? step.reason : step.kind, asked: null };
  let reason = '';
  for (const trial of step.trials) {
    const s = ladder.afterGpg(dg, pre as NeedsDigestLookup, trial, result, T0_S * 1000);
    reason = s.kind === 'reject' ? s.reason : s.kind;
    if (s.kind !== 'reject') break;
  }
  return { reason, asked: step };
}

describe('fwknop GnuPG rung: what reaches gpg', () => {
  it('a GnuPG packet asks for one gpg run with "hQ" restored, and a good signature from a listed signer opens it', () => {
    const bytes = packet();
    const r = run(door(gpgStanza(`remote_ids: [FA940D2C]`)), bytes, decrypted(good));
    assert.equal(r.reason, 'needs-replay-check');
    assert.equal(r.asked?.trials.length, 1);
    const msg = Buffer.from(r.asked?.trials[0]?.message ?? []);
    assert.deepEqual(msg, Buffer.from(`hQ${Buffer.from(bytes).toString('latin1')}`, 'base64'));
  });
  it('with an HMAC stanza, a wrong HMAC is refused before any gpg run', () => {
    const r = run(
      door(gpgStanza('remote_ids: [FA940D2C]', `, hmac_key: ${HMAC}`)),
      packet('another-key'),
      decrypted(good),
    );
    assert.equal(r.reason, 'fwknop-hmac');
    assert.equal(r.asked, null);
    const ok = run(door(gpgStanza('remote_ids: [FA940D2C]', `, hmac_key: ${HMAC}`)), packet(HMAC), decrypted(good));
    assert.equal(ok.reason, 'needs-replay-check');
  });
  it('a GnuPG-sized packet at a door without GnuPG stanzas is too long; one that kept its "hQ" is refused by its prefix', () => {
    assert.equal(run(door('{source: ANY, key: k, hmac_key: h}'), packet(), decrypted(good)).reason, 'fwknop-length');
    const kept = new Uint8Array(Buffer.from(`hQ${Buffer.from(packet()).toString('latin1')}`));
    assert.equal(run(door(gpgStanza('remote_ids: [FA940D2C]')), kept, decrypted(good)).reason, 'fwknop-prefix');
  });
  it('stanzas sharing one GnuPG setup cost one run; a second setup a second run', () => {
    const a = gpgStanza('remote_ids: ["11111111"]');
    const b = gpgStanza('remote_ids: [FA940D2C]');
    const r = run(door(a, b), packet(), decrypted(good));
    assert.equal(r.asked?.trials.length, 1);
    assert.equal(r.reason, 'needs-replay-check', 'the second stanza of the setup opens it');
    const other =
      '{source: ANY, gpg: {home_dir: /other, decrypt_id: ED3B28FD9EC18797, decrypt_pw: pw, remote_ids: [FA940D2C]}}';
    assert.equal(run(door(a, other), packet(), decrypted(good)).asked?.trials.length, 2);
  });
});

describe("fwknop GnuPG rung: fwknopd's signature rules", () => {
  const listed = gpgStanza('remote_ids: [FA940D2C]');
  it('unsigned: refused while GPG_REQUIRE_SIG (the default), accepted with require_sig false', () => {
    assert.equal(run(door(listed), packet(), decrypted(null)).reason, 'fwknop-gpg-unsigned');
    assert.equal(run(door(gpgStanza('require_sig: false')), packet(), decrypted(null)).reason, 'needs-replay-check');
  });
  it('signed by a key that is not listed: refused by GPG_REMOTE_ID and by GPG_FINGERPRINT_ID', () => {
    assert.equal(run(door(gpgStanza('remote_ids: [DEADBEEF]')), packet(), decrypted(good)).reason, 'fwknop-gpg-signer');
    assert.equal(
      run(door(gpgStanza(`fingerprint_ids: ["${'0'.repeat(40)}"]`)), packet(), decrypted(good)).reason,
      'fwknop-gpg-signer',
    );
    for (const id of ['C592CDA9', '818F9148FA940D2C', SIGNER_FPR, SIGNER_SUB])
      assert.equal(
        run(door(gpgStanza(`remote_ids: ["${id}"]`)), packet(), decrypted(good)).reason,
        'needs-replay-check',
        id,
      );
    assert.equal(
      run(door(gpgStanza(`fingerprint_ids: ["${SIGNER_FPR}"]`)), packet(), decrypted(good)).reason,
      'needs-replay-check',
    );
  });
  it('a signature that does not verify: refused unless GPG_IGNORE_SIG_VERIFY_ERROR, and the signer must still be listed', () => {
    const bad: GpgSignature = { status: 'error', keyIds: ['818F9148FA940D2C'] };
    assert.equal(run(door(listed), packet(), decrypted(bad)).reason, 'fwknop-gpg-bad-signature');
    const ignoring = gpgStanza('remote_ids: [FA940D2C], ignore_sig_verify_error: true');
    assert.equal(run(door(ignoring), packet(), decrypted(bad)).reason, 'needs-replay-check');
    const ignoringOther = gpgStanza('remote_ids: [DEADBEEF], ignore_sig_verify_error: true');
    assert.equal(run(door(ignoringOther), packet(), decrypted(bad)).reason, 'fwknop-gpg-signer');
  });
  it('gpg could not decrypt, or failed: named reasons; a decrypted message still goes through the later rungs', () => {
    assert.equal(run(door(listed), packet(), { kind: 'not-decrypted', detail: 'x' }).reason, 'fwknop-decrypt');
    assert.equal(run(door(listed), packet(), { kind: 'failed', detail: 'timeout' }).reason, 'fwknop-gpg-failed');
    const junk: GpgDecryptResult = {
      kind: 'decrypted',
      plaintext: new Uint8Array(Buffer.from('not:an:spa')),
      signature: good,
    };
    assert.equal(run(door(listed), packet(), junk).reason, 'fwknop-malformed');
    const stale = door(gpgStanza('remote_ids: [FA940D2C]', ', require_username: bob'));
    assert.equal(run(stale, packet(), decrypted(good)).reason, 'fwknop-username');
  });
});

describe('fwknop GnuPG rung: the budget of gpg runs', () => {
  it('admits runs up to the burst for an unknown source, and no more than `max` at once', () => {
    const ladder = new FwknopLadder(door(gpgStanza('remote_ids: [FA940D2C]')), 120_000);
    const dg = datagram(packet());
    const a = allowance(2, 10);
    assert.equal(ladder.admitGpg(dg, 0, a), true);
    assert.equal(ladder.admitGpg(dg, 0, a), true);
    assert.equal(ladder.admitGpg(dg, 0, a), false, 'the budget of 2 is spent');
    assert.equal(ladder.admitGpg(dg, 1000, a), true, 'refilled after a second');
    const c = allowance(100, 1);
    assert.equal(ladder.admitGpg(dg, 0, c), true);
    assert.equal(ladder.admitGpg(dg, 0, c), false, 'one run at once');
    c.runs.active--;
    assert.equal(ladder.admitGpg(dg, 0, c), true);
  });
});

describe("gpg's status lines", () => {
  const lines = (...l: string[]) => l.map((x) => `[GNUPG:] ${x}`).join('\n');
  it('a good signature: the signing key and its primary fingerprints', () => {
    const s = parseGpgStatus(
      lines(
        'NEWSIG',
        'GOODSIG C9337033C592CDA9 client <client@example.org>',
        `VALIDSIG ${SIGNER_SUB} 2026-12-04 1796412416 0 4 0 1 10 00 ${SIGNER_FPR}`,
        'DECRYPTION_OKAY',
        'GOODMDC',
      ),
    );
    assert.deepEqual(s, { decrypted: true, signature: { status: 'good', keyIds: [SIGNER_SUB, SIGNER_FPR] } });
  });
  it('no key for the signature, two signatures, a failed decryption, no signature', () => {
    assert.deepEqual(
      parseGpgStatus(lines('NEWSIG', 'ERRSIG 818F9148FA940D2C 1 10 00 1796412416 9 -', 'DECRYPTION_OKAY')).signature,
      {
        status: 'error',
        keyIds: ['818F9148FA940D2C'],
      },
    );
    const two = lines(
      'NEWSIG',
      'GOODSIG C9337033C592CDA9 a',
      `VALIDSIG ${SIGNER_SUB} x x x x x x x x ${SIGNER_FPR}`,
      'NEWSIG',
      'GOODSIG C9337033C592CDA9 a',
      'DECRYPTION_OKAY',
    );
    assert.equal(parseGpgStatus(two).signature?.status, 'bad');
    assert.equal(parseGpgStatus(lines('DECRYPTION_OKAY', 'DECRYPTION_FAILED')).decrypted, false);
    assert.deepEqual(parseGpgStatus(lines('DECRYPTION_OKAY')), { decrypted: true, signature: null });
  });
});
