/**
 * The client's GnuPG packet (core/spa/fwknop-gpg-seal.ts), checked against the server's own reading
 * of one (core/spa/fwknop-gpg.ts): the message comes back byte for byte once `hQ` is restored, the
 * HMAC holds over `hQ` + message and fails when one character changes, and what fwknopd could not
 * read (not an encrypted message, too short, too long) is refused before anything is sent.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { FWKNOP_MAX_WIRE_BYTES } from '../../src/core/limits.js';
import { fwknopGpgWire } from '../../src/core/spa/fwknop-gpg-seal.js';
import { gpgEncryptedChars, gpgHmacHolds, gpgHmacOf, gpgMessageBytes } from '../../src/core/spa/fwknop-gpg.js';

/**
 * An OpenPGP-shaped message: the old-format tag 0x85 (public-key encrypted session key, two length
 * bytes), then a length below 4096 (its first byte's top bits 0: so the base64 begins `hQ`).
 */
const message = (bytes: number): Uint8Array =>
  Uint8Array.from(randomBytes(bytes), (b, i) => (i === 0 ? 0x85 : i === 1 ? 0x01 : b));

describe('fwknop GnuPG packets, as the client makes them', () => {
  it('without HMAC: the server restores hQ and gets the message back', () => {
    const m = message(500);
    const wire = fwknopGpgWire(m, null);
    assert.equal(Buffer.from(wire).toString('latin1').startsWith('hQ'), false, 'hQ is dropped');
    assert.deepEqual(gpgMessageBytes(wire, gpgEncryptedChars(wire, null)), m);
  });

  it('with HMAC: it holds over hQ + message, on the server, and fails for a changed character', () => {
    const key = randomBytes(64);
    const m = message(560);
    const wire = fwknopGpgWire(m, { type: 'sha256', key });
    const hmac = gpgHmacOf('sha256', key);
    assert.equal(gpgHmacHolds(wire, hmac), true);
    assert.deepEqual(gpgMessageBytes(wire, gpgEncryptedChars(wire, hmac)), m);
    const changed = Uint8Array.from(wire, (b, i) => (i === 10 ? (b === 0x41 ? 0x42 : 0x41) : b));
    assert.equal(gpgHmacHolds(changed, hmac), false);
    assert.equal(gpgHmacHolds(wire, gpgHmacOf('sha256', randomBytes(64))), false);
  });

  it('refuses what fwknopd could not read: not an encrypted message, too short, too long', () => {
    assert.throws(
      () =>
        fwknopGpgWire(
          Uint8Array.from(randomBytes(500), (b, i) => (i === 0 ? 0x8c : b)),
          null,
        ),
      /encrypted message/,
    );
    assert.throws(() => fwknopGpgWire(message(200), null), /fwknopd reads 400\.\.1500/);
    assert.throws(
      () => fwknopGpgWire(message(Math.ceil((FWKNOP_MAX_WIRE_BYTES * 3) / 4) + 10), null),
      /would be \d+ characters/,
    );
  });
});
