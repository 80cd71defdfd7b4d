/**
 * The port a GnuPG stanza's packets are decrypted and their signature checked through
 * (core/spa/fwknop-gpg-rung.ts asks for a run; daemon/gpg-decrypter.ts runs the system's gpg).
 * Contract: never rejects; every run ends in one GpgDecryptResult within the adapter's time limit;
 * the passphrase is never logged nor put in argv.
 */

import type { FwknopGpgSettings, GpgDecryptResult } from '../core/spa/fwknop-gpg.js';

export interface GpgDecrypter {
  decrypt(settings: FwknopGpgSettings, message: Uint8Array): Promise<GpgDecryptResult>;
}
