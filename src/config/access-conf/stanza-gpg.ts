/**
 * A stanza's GnuPG variables (fwknop 2.6 server/access.c and fwknopd's access.conf(5)), read into
 * the YAML `gpg` mapping of a fwknop stanza (core/spa/fwknop-gpg.ts gives their meaning):
 *   GPG_HOME_DIR (the GnuPG home with the server key and the clients' public keys),
 *   GPG_EXE (default /usr/bin/gpg), GPG_DECRYPT_ID (the server key), GPG_DECRYPT_PW (its
 *   passphrase; `__CHANGEME__` is refused), GPG_ALLOW_NO_PW (a key without passphrase),
 *   GPG_REQUIRE_SIG (default Y), GPG_DISABLE_SIG (Y: signatures are not checked),
 *   GPG_IGNORE_SIG_VERIFY_ERROR (default N), GPG_REMOTE_ID (key ids) and GPG_FINGERPRINT_ID
 *   (fingerprints), comma-separated lists of the allowed signers.
 * knockgate's choices, failing closed where fwknopd would fall back: GPG_HOME_DIR is required
 * (fwknopd falls back to the home of the user it runs as), as is GPG_DECRYPT_ID; GPG_EXE and
 * GPG_HOME_DIR must be absolute; a stanza that requires signatures must name its signers (GPG_REMOTE_ID
 * or GPG_FINGERPRINT_ID), so that any key that happens to be in the keyring cannot open it.
 * Contract: every problem is a ConfigError at the variable that has it (or the stanza's first GnuPG
 * variable when one is missing). Values are read as written (trailing blanks are cut by the lexer).
 */

import { GPG_FINGERPRINT as FINGERPRINT, GPG_KEY_ID as KEY_ID } from '../../core/spa/fwknop-gpg.js';
import { shown } from './c-readings.js';
import type { AccessLine } from './lexer.js';
import type { AccessConfReport, Loc, Setting } from './report.js';
import { MAX_GPG_SIGNER_IDS } from '../../core/limits.js';

export const GPG_VAR_NAMES = [
  'GPG_HOME_DIR',
  'GPG_EXE',
  'GPG_DECRYPT_ID',
  'GPG_DECRYPT_PW',
  'GPG_ALLOW_NO_PW',
  'GPG_REQUIRE_SIG',
  'GPG_DISABLE_SIG',
  'GPG_IGNORE_SIG_VERIFY_ERROR',
  'GPG_REMOTE_ID',
  'GPG_FINGERPRINT_ID',
] as const;
type GpgVar = (typeof GPG_VAR_NAMES)[number];

/** The GnuPG variables of a stanza being read: the first one's place, and each one's last value. */
export interface GpgDraft extends Loc {
  readonly vars: Partial<Record<GpgVar, Setting<string>>>;
}

/** A stanza's `gpg` as YAML carries it (schema.ts fwknopGpgSchema). */
export interface StanzaGpg {
  readonly home_dir: string;
  readonly exe: string;
  readonly decrypt_id: string;
  readonly decrypt_pw?: string;
  readonly allow_no_pw: boolean;
  readonly require_sig: boolean;
  readonly ignore_sig_verify_error: boolean;
  readonly remote_ids: readonly string[];
  readonly fingerprint_ids: readonly string[];
}

export const DEFAULT_GPG_EXE = '/usr/bin/gpg';

/** One GPG_* line: recorded in the draft (the last value wins, as in fwknopd). */
export function readGpgVariable(report: AccessConfReport, draft: GpgDraft | undefined, line: AccessLine): GpgDraft {
  const { at, name, value } = line;
  const d: GpgDraft = draft ?? { file: at.file, line: at.line, vars: {} };
  const prev = d.vars[name as GpgVar];
  if (prev !== undefined)
    report.warn(at, `${name} overrides ${prev.file}:${prev.line} in the same stanza; fwknopd uses the last value`);
  if (name === 'GPG_DECRYPT_PW' && value.toLowerCase() === '__changeme__')
    report.fail(at, name, 'value is not set (still __CHANGEME__); fwknopd refuses to start');
  (d.vars as Record<string, Setting<string>>)[name] = { file: at.file, line: at.line, key: name, value };
  return d;
}

const yes = (s: Setting<string> | undefined, def: boolean): boolean =>
  s === undefined ? def : s.value[0] === 'y' || s.value[0] === 'Y';

/** The list of a GPG_REMOTE_ID or GPG_FINGERPRINT_ID, checked entry by entry. */
function idList(report: AccessConfReport, s: Setting<string> | undefined, pattern: RegExp, what: string): string[] {
  if (s === undefined) return [];
  const ids = s.value
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (ids.length > MAX_GPG_SIGNER_IDS) report.fail(s, s.key, `more than ${MAX_GPG_SIGNER_IDS} entries`);
  for (const id of ids) if (!pattern.test(id.replace(/ /g, ''))) report.fail(s, s.key, `${shown(id)} is not ${what}`);
  return ids.map((id) => id.replace(/ /g, '').replace(/^0x/i, '').toUpperCase());
}

function absolutePath(report: AccessConfReport, s: Setting<string>): string {
  if (!s.value.startsWith('/')) report.fail(s, s.key, `${shown(s.value)} must be an absolute path`);
  return s.value;
}

/** The finished `gpg` of a stanza; null when it has no GnuPG variable. */
export function finishGpg(report: AccessConfReport, draft: GpgDraft | undefined): StanzaGpg | null {
  if (draft === undefined) return null;
  const v = draft.vars;
  const first: Loc = draft;
  const firstKey = Object.values(v)[0]?.key ?? 'GPG_HOME_DIR';
  if (v.GPG_HOME_DIR === undefined)
    report.fail(
      first,
      firstKey,
      "GnuPG stanza without GPG_HOME_DIR: name the GnuPG home that holds the server key and the clients' public keys (knockgate does not fall back to a user's ~/.gnupg)",
    );
  if (v.GPG_DECRYPT_ID === undefined)
    report.fail(first, firstKey, 'GnuPG stanza without GPG_DECRYPT_ID: name the server key packets are encrypted to');
  const allowNoPw = yes(v.GPG_ALLOW_NO_PW, false);
  const pw = v.GPG_DECRYPT_PW;
  if (pw === undefined && !allowNoPw)
    report.fail(
      first,
      firstKey,
      "GnuPG stanza without GPG_DECRYPT_PW: give the server key's passphrase, or GPG_ALLOW_NO_PW Y for a key without one",
    );
  const decryptId = v.GPG_DECRYPT_ID.value;
  if (!KEY_ID.test(decryptId) && !/^\S+$/.test(decryptId))
    report.fail(v.GPG_DECRYPT_ID, 'GPG_DECRYPT_ID', `${shown(decryptId)} is not a key id`);
  const disabled = yes(v.GPG_DISABLE_SIG, false);
  const requireSig = yes(v.GPG_REQUIRE_SIG, true) && !disabled;
  const remoteIds = idList(report, v.GPG_REMOTE_ID, KEY_ID, 'a key id (8, 16 or 40 hex digits)');
  const fingerprints = idList(report, v.GPG_FINGERPRINT_ID, FINGERPRINT, 'a fingerprint (40 hex digits)');
  const at = v.GPG_REQUIRE_SIG ?? first;
  if (requireSig && remoteIds.length === 0 && fingerprints.length === 0)
    report.fail(
      at,
      v.GPG_REQUIRE_SIG?.key ?? firstKey,
      'GPG_REQUIRE_SIG (Y, the default) without GPG_REMOTE_ID or GPG_FINGERPRINT_ID: name the client keys whose signatures are accepted',
    );
  if (!requireSig)
    report.warn(
      v.GPG_DISABLE_SIG ?? v.GPG_REQUIRE_SIG ?? first,
      `signatures are not checked in this stanza (${disabled ? 'GPG_DISABLE_SIG Y' : 'GPG_REQUIRE_SIG N'}): anyone with the server's public key can open it${remoteIds.length + fingerprints.length > 0 ? ', and GPG_REMOTE_ID / GPG_FINGERPRINT_ID are ignored' : ''}`,
    );
  return {
    home_dir: absolutePath(report, v.GPG_HOME_DIR),
    exe: v.GPG_EXE ? absolutePath(report, v.GPG_EXE) : DEFAULT_GPG_EXE,
    decrypt_id: decryptId,
    ...(pw !== undefined ? { decrypt_pw: pw.value } : {}),
    allow_no_pw: allowNoPw,
    require_sig: requireSig,
    ignore_sig_verify_error: yes(v.GPG_IGNORE_SIG_VERIFY_ERROR, false),
    remote_ids: remoteIds,
    fingerprint_ids: fingerprints,
  };
}
