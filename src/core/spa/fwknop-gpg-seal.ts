/**
 * The client's side of fwknop's GnuPG mode (docs/fwknop-format.md, "GnuPG mode"): from the OpenPGP
 * message gpg made of the encoded plaintext (encrypted to the server's key, signed or not), the
 * wire text fwknop 2.6's client sends: base64 without `=` padding, the HMAC (when there is a key)
 * over that text, appended, then the leading `hQ` dropped (the server restores it). Pure.
 *
 * Contract: throws when the message does not begin with a public-key encrypted session key packet
 * (its base64 then does not begin `hQ`, and no fwknopd could read it) or when the packet would be
 * outside what fwknopd reads (MIN_FWKNOP_GPG_PACKET_BYTES .. FWKNOP_MAX_WIRE_BYTES).
 */

import { HmacKey } from '../hmac.js';
import { FWKNOP_MAX_WIRE_BYTES, MIN_FWKNOP_GPG_PACKET_BYTES } from '../limits.js';
import { FWKNOP_GPG_PREFIX } from './fwknop-gpg.js';
import { b64, type FwknopHmacType } from './fwknop-text.js';

export function fwknopGpgWire(
  message: Uint8Array,
  hmac: { readonly type: FwknopHmacType; readonly key: Uint8Array } | null,
): Uint8Array {
  let wire = b64(message);
  if (!wire.startsWith(FWKNOP_GPG_PREFIX))
    throw new Error('gpg did not write an encrypted message (it must begin with a public-key encrypted session key)');
  if (hmac !== null) wire += b64(new HmacKey(hmac.type, hmac.key).mac(Buffer.from(wire, 'latin1')));
  wire = wire.slice(FWKNOP_GPG_PREFIX.length);
  if (wire.length < MIN_FWKNOP_GPG_PACKET_BYTES || wire.length > FWKNOP_MAX_WIRE_BYTES)
    throw new Error(
      `the GnuPG packet would be ${wire.length} characters; fwknopd reads ${MIN_FWKNOP_GPG_PACKET_BYTES}..${FWKNOP_MAX_WIRE_BYTES} (a smaller key or signer makes it shorter)`,
    );
  return new Uint8Array(Buffer.from(wire, 'latin1'));
}
