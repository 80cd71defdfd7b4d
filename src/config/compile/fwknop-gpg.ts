/**
 * A fwknop stanza's `gpg` (knockgate.yaml, or access.conf GPG_* through the import) compiled into
 * the FwknopGpgSettings the ladder uses (core/spa/fwknop-gpg.ts), with the same rules as the
 * access.conf reader (config/access-conf/stanza-gpg.ts): absolute paths, a passphrase or
 * allow_no_pw, and named signers when signatures are required.
 */

import { GPG_FINGERPRINT as FINGERPRINT, GPG_KEY_ID as KEY_ID } from '../../core/spa/fwknop-gpg.js';
import type { FwknopGpgSettings } from '../../core/spa/fwknop-gpg.js';
import type { RawFwknopStanza } from '../schema.js';
import type { ConfigPath } from './context.js';

export function compileFwknopGpg(
  st: RawFwknopStanza,
  fail: (key: ConfigPath, message: string) => never,
): FwknopGpgSettings | null {
  const g = st.gpg;
  if (g === undefined) return null;
  for (const k of ['home_dir', 'exe'] as const)
    if (!g[k].startsWith('/')) fail(['gpg', k], `${JSON.stringify(g[k])} must be an absolute path`);
  if (g.decrypt_pw === undefined && !g.allow_no_pw)
    fail(['gpg'], 'give "decrypt_pw" (the server key\'s passphrase) or "allow_no_pw: true"');
  const ids = (list: readonly string[], field: string, re: RegExp, what: string): string[] =>
    list.map((id, n) => {
      const x = id.replace(/ /g, '');
      if (!re.test(x)) fail(['gpg', field, n], `${JSON.stringify(id)} is not ${what}`);
      return x.replace(/^0x/i, '').toUpperCase();
    });
  const remoteIds = ids(g.remote_ids, 'remote_ids', KEY_ID, 'a key id (8, 16 or 40 hex digits)');
  const fingerprints = ids(g.fingerprint_ids, 'fingerprint_ids', FINGERPRINT, 'a fingerprint (40 hex digits)');
  if (g.require_sig && remoteIds.length === 0 && fingerprints.length === 0)
    fail(
      ['gpg'],
      'require_sig (the default) needs "remote_ids" or "fingerprint_ids": the client keys whose signatures are accepted',
    );
  return Object.freeze({
    exe: g.exe,
    homeDir: g.home_dir,
    decryptId: g.decrypt_id,
    decryptPassphrase: g.decrypt_pw === undefined ? null : new Uint8Array(Buffer.from(g.decrypt_pw, 'utf8')),
    requireSignature: g.require_sig,
    ignoreVerifyError: g.ignore_sig_verify_error,
    remoteIds: Object.freeze(remoteIds),
    fingerprints: Object.freeze(fingerprints),
  });
}
