/**
 * Finishing a stanza once its file is read: fwknop 2.6.11's expand_acc_ent_lists(),
 * set_acc_defaults() and acc_data_is_valid(), and what knockgate needs on top.
 *   - a stanza needs a non-empty key (KEY/KEY_BASE64) or GnuPG settings (stanza-gpg.ts); the
 *     encryption and HMAC keys must differ; in legacy mode keys are cut to 16 bytes; keys fwknop
 *     would refuse every packet with (fko_new_with_data: e.g. over 32 bytes) are an error;
 *   - HMAC_DIGEST_TYPE defaults to SHA-256, ENCRYPTION_MODE to CBC, DESTINATION to any;
 *   - FW_ACCESS_TIMEOUT and MAX_FW_TIMEOUT below 1 mean the default (DEF_FW_ACCESS_TIMEOUT 30,
 *     DEF_MAX_FW_TIMEOUT 300); MAX_FW_TIMEOUT caps only a client's own timeout (set_timeout);
 *   - without OPEN_PORTS fwknopd grants whatever the client asks for (a warning: knockgate grants
 *     only the door's "open" ports).
 * knockgate's choices: MAX_FW_TIMEOUT is always set (300 s when absent) so that a door's longer
 * maximum never lengthens a client's request; timeouts above knockgate's 24 h are cut to 24 h
 * (less access, with a warning); a missing HMAC key is a warning (weaker, as fwknop's legacy mode).
 *
 * Contract: returns the stanza with every default applied, ready to write as YAML; every failure
 * is a ConfigError naming the variable (or the SOURCE line when a variable is missing).
 */

import type { Endpoint } from '../../core/endpoint.js';
import { MAX_GRANT_DURATION_S } from '../../core/limits.js';
import { fwknopKeysProblem, type FwknopHmacType } from '../../core/spa/fwknop-wire.js';
import { shown, utf8Of } from './c-readings.js';
import { DEF_FW_ACCESS_TIMEOUT_S, DEF_MAX_FW_TIMEOUT_S, LEGACY_KEY_BYTES } from './fwknopd-constants.js';
import { type FinishedCmdCycle, finishCmdCycle } from './cmd-cycle.js';
import { type FinishedCmdExec, finishCmdExec } from './cmd-exec.js';
import type { AccessConfReport, Loc, Setting } from './report.js';
import { addressList, portList } from './stanza-lists.js';
import { finishGpg, type StanzaGpg } from './stanza-gpg.js';
import type { HmacName, KeyValue, StanzaDraft } from './stanza-variables.js';
import type { FwknopEncryptionMode } from '../../core/spa/fwknop-cipher.js';

/** Where a variable was set: its file, line and name as written. */
export interface VariableLoc extends Loc {
  readonly key: string;
}

/** A stanza with its lists expanded and its defaults applied. */
export interface Stanza {
  /** Its SOURCE line. */
  readonly loc: Loc;
  /**
   * Where each YAML field of the stanza (`source`, `open_ports`, `key_base64`, ...) was set in the
   * access.conf files, for errors found later, when knockgate.yaml's door compiles it; a field
   * that is a default is absent (the SOURCE line stands for the stanza).
   */
  readonly variables: Readonly<Partial<Record<string, VariableLoc>>>;
  readonly source: readonly string[];
  readonly destination: readonly string[];
  readonly openPorts: readonly Endpoint[] | null;
  readonly restrictPorts: readonly Endpoint[] | null;
  /** The key as YAML will carry it: text when its bytes are UTF-8 and it was not given as base64. */
  readonly key: { readonly field: 'key' | 'key_base64'; readonly text: string } | null;
  readonly hmacKey: { readonly field: 'hmac_key' | 'hmac_key_base64'; readonly text: string } | null;
  readonly hmacType: HmacName;
  readonly mode: FwknopEncryptionMode;
  readonly fwTimeoutS: number;
  readonly maxTimeoutS: number;
  readonly username: string | null;
  readonly requireSource: boolean;
  /** Unix seconds; null: no expiry. */
  readonly expire: number | null;
  /** FORCE_NAT with FORCE_SNAT or FORCE_MASQUERADE: where this stanza's grants are forwarded. */
  readonly forceNat: {
    readonly to: string;
    readonly port: number;
    readonly masquerade: boolean;
    readonly snat: string | null;
  } | null;
  /** The GnuPG settings (GPG_*; access-conf/stanza-gpg.ts), or null. */
  readonly gpg: StanzaGpg | null;
  /** CMD_CYCLE_OPEN/CLOSE/TIMER (cmd-cycle.ts): commands run instead of the firewall. */
  readonly cmdCycle: FinishedCmdCycle | null;
  /** ENABLE_CMD_EXEC Y with CMD_EXEC_USER (cmd-exec.ts): command messages run as this user. */
  readonly cmdExec: FinishedCmdExec | null;
}

export function finishStanza(report: AccessConfReport, d: StanzaDraft): Stanza {
  const at: Loc = d;
  const source = addressList(report, { file: d.file, line: d.line, key: 'SOURCE', value: d.source });
  const destination = d.destination ? addressList(report, d.destination) : ['ANY'];
  const openPorts = d.openPorts ? portList(report, d.openPorts) : null;
  const restrictPorts = d.restrictPorts ? portList(report, d.restrictPorts) : null;
  if (openPorts === null) {
    report.warn(
      at,
      'no OPEN_PORTS: fwknopd opens whatever ports the client asks for (except RESTRICT_PORTS); knockgate opens only ports in the door\'s "open" list for this stanza',
    );
  }
  const gpg = finishGpg(report, d.gpg);
  const key = gpg !== null && d.key?.value.bytes.length === 0 ? undefined : d.key;
  if ((key === undefined && gpg === null) || (key !== undefined && key.value.bytes.length === 0)) {
    report.fail(
      key ?? at,
      key?.key ?? 'KEY',
      `no keys found for access stanza source ${shown(d.source)}: give KEY or KEY_BASE64 (or the GPG_* variables)`,
    );
  }
  const mode = d.mode?.value ?? 'cbc';
  const hmac = d.hmacKey;
  if (hmac !== undefined && hmac.value.bytes.length === 0) report.fail(hmac, hmac.key, 'the HMAC key is empty');
  if (key !== undefined && hmac?.value.bytes.equals(key.value.bytes)) {
    report.fail(
      hmac,
      hmac.key,
      `the encryption passphrase and HMAC key should not be identical for access stanza source ${shown(d.source)} (fwknopd refuses it)`,
    );
  }
  if (hmac === undefined) {
    report.warn(
      at,
      "no HMAC_KEY: packets for this stanza are not authenticated before decryption (fwknop's legacy mode), which is weaker; add HMAC_KEY_BASE64 (fwknop --key-gen) to both sides",
    );
    if (d.hmacType !== undefined) report.warn(d.hmacType, 'HMAC_DIGEST_TYPE has no effect without an HMAC key');
  }
  if (key !== undefined && mode === 'legacy' && key.value.bytes.length > LEGACY_KEY_BYTES) {
    report.warn(key, `legacy mode uses only the first ${LEGACY_KEY_BYTES} bytes of the key (fwknopd truncates it too)`);
  }
  const hmacType = d.hmacType?.value ?? 'sha256';
  const problem = fwknopKeysProblem({
    // A GnuPG-only stanza: its HMAC key is checked with a stand-in encryption key.
    key: key !== undefined ? new Uint8Array(key.value.bytes) : new Uint8Array(1),
    hmacKey: hmac ? new Uint8Array(hmac.value.bytes) : null,
    hmacType: hmacType.replace('_', '-') as FwknopHmacType,
    encryptionMode: mode,
  });
  if (problem !== null) {
    const where = (problem.includes('HMAC') && hmac ? hmac : key) ?? at;
    const whereKey = (where as Partial<Setting<unknown>>).key ?? 'SOURCE';
    report.fail(where, whereKey, `${problem} (fwknopd would refuse every packet for this stanza)`);
  }
  const fwTimeoutS = capped(report, d.fwTimeout, DEF_FW_ACCESS_TIMEOUT_S);
  const maxTimeoutS = capped(report, d.maxTimeout, DEF_MAX_FW_TIMEOUT_S);
  if (maxTimeoutS < fwTimeoutS) {
    report.warn(
      d.maxTimeout ?? at,
      `MAX_FW_TIMEOUT (${maxTimeoutS}s) < FW_ACCESS_TIMEOUT (${fwTimeoutS}s): as in fwknopd, it caps only the timeouts clients ask for`,
    );
  }
  const expire = d.expire === undefined || d.expire.value <= 0 ? null : d.expire.value;
  const keyYaml = key !== undefined ? keyText(key.value, 'key', 'key_base64') : null;
  const hmacYaml = hmac ? keyText(hmac.value, 'hmac_key', 'hmac_key_base64') : null;
  const variables: Partial<Record<string, VariableLoc>> = { source: { file: d.file, line: d.line, key: 'SOURCE' } };
  const note = (field: string, set: Setting<unknown> | undefined): void => {
    if (set !== undefined) variables[field] = { file: set.file, line: set.line, key: set.key };
  };
  note('destination', d.destination);
  note('open_ports', d.openPorts);
  note('restrict_ports', d.restrictPorts);
  if (keyYaml) note(keyYaml.field, key);
  if (gpg !== null && d.gpg !== undefined)
    variables.gpg = { file: d.gpg.file, line: d.gpg.line, key: Object.values(d.gpg.vars)[0]?.key ?? 'GPG_HOME_DIR' };
  if (hmacYaml) note(hmacYaml.field, hmac);
  note('hmac_digest_type', d.hmacType);
  note('encryption_mode', d.mode);
  note('fw_access_timeout', d.fwTimeout);
  note('max_fw_timeout', d.maxTimeout);
  note('require_username', d.username);
  note('require_source_address', d.requireSource);
  note('access_expire_epoch', d.expire);
  note('force_nat', d.forceNat);
  const forceNat = finishForceNat(report, d);
  const cmdCycle = finishCmdCycle(report, at, d);
  note('cmd_cycle', d.cmdCycleOpen ?? d.cmdCycleClose);
  const cmdExec = finishCmdExec(report, d);
  note('cmd_exec', d.cmdExecEnable);
  return {
    loc: { file: d.file, line: d.line },
    variables,
    source,
    destination,
    openPorts,
    restrictPorts,
    key: keyYaml,
    hmacKey: hmacYaml,
    hmacType,
    mode,
    fwTimeoutS,
    maxTimeoutS,
    username: d.username?.value ?? null,
    requireSource: d.requireSource?.value ?? false,
    expire,
    forceNat,
    gpg,
    cmdCycle,
    cmdExec,
  };
}

/** FORCE_SNAT and FORCE_MASQUERADE only change where FORCE_NAT's traffic appears to come from. */
function finishForceNat(report: AccessConfReport, d: StanzaDraft): Stanza['forceNat'] {
  const masquerade = d.forceMasquerade?.value ?? false;
  const snat = d.forceSnat;
  if (d.forceNat === undefined) {
    const extra = snat ?? (masquerade ? d.forceMasquerade : undefined);
    if (extra !== undefined)
      report.fail(
        extra,
        extra.key,
        `${extra.key} needs FORCE_NAT in the same stanza in knockgate (which refuses NAT access requests and FORWARD_ALL)`,
      );
    return null;
  }
  if (snat !== undefined && masquerade) report.fail(snat, snat.key, 'give FORCE_SNAT or FORCE_MASQUERADE Y, not both');
  return { ...d.forceNat.value, masquerade, snat: snat?.value ?? null };
}

function keyText<F extends string, B extends string>(k: KeyValue, plain: F, b64: B): { field: F | B; text: string } {
  const text = k.base64 ? null : utf8Of(k.bytes.toString('latin1'));
  return text !== null ? { field: plain, text } : { field: b64, text: k.bytes.toString('base64') };
}

/** A timeout in seconds: below 1 is fwknopd's default; above knockgate's maximum, that maximum. */
function capped(report: AccessConfReport, s: Setting<number> | undefined, def: number): number {
  if (s === undefined || s.value < 1) return def;
  if (s.value > MAX_GRANT_DURATION_S) {
    report.warn(
      s,
      `${s.key} ${s.value}s is longer than knockgate's longest grant (${MAX_GRANT_DURATION_S}s) and is cut to it`,
    );
    return MAX_GRANT_DURATION_S;
  }
  return s.value;
}
