/**
 * The access.conf variables a stanza knows, and what each does to the stanza being read: fwknop
 * 2.6.11 server/access.c (parse_access_file, add_acc_bool, add_acc_b64_string) and the knockgate
 * outcome for each variable it cannot honour.
 *   - names are case-sensitive (CONF_VAR_IS is strcmp); SOURCE opens a stanza; other variables
 *     before the first SOURCE of a file are skipped; a variable set twice in a stanza keeps the
 *     last value; KEY and KEY_BASE64 fill the same key, as do HMAC_KEY and HMAC_KEY_BASE64, and
 *     REQUIRE_SOURCE is a synonym of REQUIRE_SOURCE_ADDRESS; unknown names are logged and ignored;
 *   - KEY, KEY_BASE64, HMAC_KEY, HMAC_KEY_BASE64: `__CHANGEME__` (any case) is rejected; base64
 *     must be letters, digits, `+`, `/`, `=` (is_base64) and is decoded up to the first `=`
 *     (b64_decode);
 *   - HMAC_DIGEST_TYPE: md5, sha1, sha256, sha384, sha512, sha3_256, sha3_512 (any case;
 *     hmac_digest_strtoint); ENCRYPTION_MODE: CBC, ECB, CFB, OFB, CTR, Asymmetric, legacy (any
 *     case; enc_mode_strtoint; PCBC is listed but unsupported);
 *   - booleans are true when the value starts with `y` or `Y` (add_acc_bool), false otherwise.
 *
 * Contract: every variable has an outcome here, and none is dropped silently. Errors (ConfigError
 * at the variable): what fwknopd rejects, and what knockgate cannot honour without granting more
 * than fwknopd would (FORWARD_ALL, DISABLE_DNAT, %include_keys, cipher modes other than CBC and
 * legacy). CMD_CYCLE_OPEN/CLOSE/TIMER are read by cmd-cycle.ts, the command-execution variables
 * by cmd-exec.ts, GPG_* by stanza-gpg.ts. FORCE_NAT, FORCE_SNAT and FORCE_MASQUERADE are read here
 * and become the stanza's `force_nat` (stanza.ts).
 * Warnings: every other variable knockgate does not support (unknown names), saying what happens
 * instead. Values are only read here; a stanza's rules as a whole
 * (keys present, lists, defaults) are checked when it is finished (stanza.ts).
 */

import { fwknopBase64Decode, shown, utf8Of } from './c-readings.js';
import type { AccessLine } from './lexer.js';
import { readExpireDate, readExpireEpoch, readTimeout } from './number-values.js';
import type { AccessConfReport, Loc, Setting } from './report.js';
import type { FwknopEncryptionMode } from '../../core/spa/fwknop-cipher.js';
import { GPG_VAR_NAMES, type GpgDraft, readGpgVariable } from './stanza-gpg.js';
import { type CmdCycleDraft, readCmdCycleVariable } from './cmd-cycle.js';
import { CMD_EXEC_VARIABLES, type CmdExecDraft, readCmdExecVariable } from './cmd-exec.js';

export const HMAC_TYPES = ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha3_256', 'sha3_512'] as const;
export type HmacName = (typeof HMAC_TYPES)[number];
/** enc_mode_strtoint's table: name → supported by fwknop. */
const ENC_MODES: Readonly<Record<string, boolean>> = {
  cbc: true,
  ecb: true,
  cfb: true,
  pcbc: false,
  ofb: true,
  ctr: true,
  asymmetric: true,
  legacy: true,
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const GPG_VARS: ReadonlySet<string> = new Set(GPG_VAR_NAMES);
const CMD_EXEC_VARS: ReadonlySet<string> = new Set(CMD_EXEC_VARIABLES);
/** Every name fwknopd knows, for the hint on a name written in the wrong case. */
const KNOWN_VARS = new Set([
  '%include',
  '%include_folder',
  '%include_keys',
  'SOURCE',
  'DESTINATION',
  'OPEN_PORTS',
  'RESTRICT_PORTS',
  'KEY',
  'KEY_BASE64',
  'HMAC_DIGEST_TYPE',
  'HMAC_KEY_BASE64',
  'HMAC_KEY',
  'FW_ACCESS_TIMEOUT',
  'MAX_FW_TIMEOUT',
  'ENCRYPTION_MODE',
  'CMD_CYCLE_OPEN',
  'CMD_CYCLE_CLOSE',
  'CMD_CYCLE_TIMER',
  'REQUIRE_USERNAME',
  'REQUIRE_SOURCE_ADDRESS',
  'REQUIRE_SOURCE',
  'ACCESS_EXPIRE',
  'ACCESS_EXPIRE_EPOCH',
  'FORCE_NAT',
  'FORCE_SNAT',
  'FORCE_MASQUERADE',
  'DISABLE_DNAT',
  'FORWARD_ALL',
  ...GPG_VARS,
  ...CMD_EXEC_VARS,
]);

/** A key's bytes and how it was written (KEY vs KEY_BASE64). */
export interface KeyValue {
  readonly bytes: Buffer;
  readonly base64: boolean;
}

/** A stanza as read so far: each variable's last value, with where it was set. */
export interface StanzaDraft extends Loc, CmdCycleDraft, CmdExecDraft {
  /** SOURCE, unparsed. */
  readonly source: string;
  destination?: Setting<string>;
  openPorts?: Setting<string>;
  restrictPorts?: Setting<string>;
  key?: Setting<KeyValue>;
  hmacKey?: Setting<KeyValue>;
  hmacType?: Setting<HmacName>;
  mode?: Setting<FwknopEncryptionMode>;
  fwTimeout?: Setting<number>;
  maxTimeout?: Setting<number>;
  username?: Setting<string>;
  requireSource?: Setting<boolean>;
  /** Unix seconds; 0: no expiry (fwknopd's `access_expire_time > 0` test). */
  expire?: Setting<number>;
  /** FORCE_NAT `<IP> <PORT>`, read as fwknopd reads it (sscanf "%15s %5u", an IPv4 address). */
  forceNat?: Setting<{ readonly to: string; readonly port: number }>;
  /** FORCE_SNAT `<IP>`. */
  forceSnat?: Setting<string>;
  forceMasquerade?: Setting<boolean>;
  /** The GnuPG variables, if any (access-conf/stanza-gpg.ts; a stanza without a KEY is then GnuPG-only). */
  gpg?: GpgDraft;
}

type SettingField = Exclude<keyof StanzaDraft, keyof Loc | 'source' | 'gpg'>;

/**
 * One variable line (not %include or %include_folder, which the file reader handles): a SOURCE
 * opens a new stanza, appended to `drafts` (at most `maxStanzas`); any other variable goes to
 * `current`. Returns the file's current stanza.
 */
export function applyStanzaVariable(
  report: AccessConfReport,
  drafts: StanzaDraft[],
  maxStanzas: number,
  line: AccessLine,
  current: StanzaDraft | null,
): StanzaDraft | null {
  const { at, name, value: val, rawValue: rawVal, afterSemicolon } = line;
  const key = name;
  if (name === 'SOURCE') {
    const d: StanzaDraft = { file: at.file, line: at.line, source: val };
    drafts.push(d);
    if (drafts.length > maxStanzas) report.fail(at, key, `more than ${maxStanzas} stanzas`);
    return d;
  }
  if (current === null) {
    report.warn(at, `${name} before the first SOURCE of this file: fwknopd ignores it, and so does this import`);
    return current;
  }
  const d: StanzaDraft = current;
  const set = (field: SettingField, value: unknown): void => {
    const prev = d[field];
    if (prev !== undefined)
      report.warn(
        at,
        `${name} overrides ${prev.key} of ${prev.file}:${prev.line} in the same stanza; fwknopd uses the last value`,
      );
    (d as unknown as Record<SettingField, Setting<unknown>>)[field] = { file: at.file, line: at.line, key, value };
  };
  const changeme = (): void => {
    if (val.toLowerCase() === '__changeme__')
      report.fail(
        at,
        key,
        `value is not set (still __CHANGEME__) in the stanza of ${d.file}:${d.line}; fwknopd refuses to start`,
      );
  };
  const textValue = (): void => {
    if (val !== rawVal)
      report.warn(
        at,
        `trailing blanks cut from the value as fwknopd 2.6.11 does (2.6.10 keeps them as part of the value)`,
      );
    if (afterSemicolon !== '')
      report.warn(at, `the value ends at ";" (fwknopd reads ${shown(val)}; the rest of the line is ignored)`);
    if (/[ \t]#/.test(val)) report.warn(at, `"#" here is part of the value: access.conf has no end-of-line comments`);
  };
  const bool = (): boolean => {
    const b = val[0] === 'y' || val[0] === 'Y';
    if (!/^[YyNn]$/.test(val))
      report.warn(at, `fwknopd reads ${shown(val)} as ${b ? 'Y' : 'N'} (only a leading "Y" or "y" means yes)`);
    return b;
  };
  const base64Key = (): Buffer => {
    if (!/^[A-Za-z0-9+/=]+$/.test(val))
      report.fail(at, key, `${shown(val)} doesn't look like base64-encoded data (fwknopd's is_base64)`);
    return fwknopBase64Decode(val);
  };
  switch (name) {
    case 'DESTINATION':
      set('destination', val);
      break;
    case 'OPEN_PORTS':
      set('openPorts', val);
      break;
    case 'RESTRICT_PORTS':
      set('restrictPorts', val);
      break;
    case 'KEY':
    case 'HMAC_KEY':
      changeme();
      textValue();
      set(name === 'KEY' ? 'key' : 'hmacKey', { bytes: Buffer.from(val, 'latin1'), base64: false });
      break;
    case 'KEY_BASE64':
    case 'HMAC_KEY_BASE64':
      changeme();
      set(name === 'KEY_BASE64' ? 'key' : 'hmacKey', { bytes: base64Key(), base64: true });
      break;
    case 'HMAC_DIGEST_TYPE': {
      const t = val.toLowerCase();
      if (!(HMAC_TYPES as readonly string[]).includes(t))
        report.fail(at, key, `${shown(val)} must be one of {${HMAC_TYPES.join(',')}}`);
      set('hmacType', t as HmacName);
      break;
    }
    case 'ENCRYPTION_MODE': {
      const m = val.toLowerCase();
      if (ENC_MODES[m] !== true)
        report.fail(at, key, `unrecognized ENCRYPTION_MODE ${shown(val)}, use {CBC,CTR,legacy,Asymmetric} (fwknopd)`);
      if (m === 'asymmetric') {
        report.warn(at, `${shown(val)} is GnuPG, which the GPG_* variables configure; ignored here`);
        break;
      }
      set('mode', m as FwknopEncryptionMode);
      break;
    }
    case 'FW_ACCESS_TIMEOUT':
    case 'MAX_FW_TIMEOUT':
      set(name === 'FW_ACCESS_TIMEOUT' ? 'fwTimeout' : 'maxTimeout', readTimeout(report, at, key, val));
      break;
    case 'REQUIRE_USERNAME': {
      textValue();
      const u = utf8Of(val);
      if (u === null) report.fail(at, key, 'the user name is not UTF-8 text');
      set('username', u);
      break;
    }
    case 'REQUIRE_SOURCE_ADDRESS':
    case 'REQUIRE_SOURCE':
      set('requireSource', bool());
      break;
    case 'ACCESS_EXPIRE':
      set('expire', readExpireDate(report, at, key, val));
      break;
    case 'ACCESS_EXPIRE_EPOCH':
      set('expire', readExpireEpoch(report, at, key, val));
      break;
    case '%include_keys':
      report.fail(
        at,
        key,
        'not supported: knockgate reads keys only from the stanza itself (and fwknopd drops the stanza if the key file is unusable); put KEY/KEY_BASE64 and HMAC_KEY/HMAC_KEY_BASE64 in the stanza',
      );
      break;
    case 'CMD_CYCLE_OPEN':
    case 'CMD_CYCLE_CLOSE':
    case 'CMD_CYCLE_TIMER': {
      const r = readCmdCycleVariable(report, at, name, val);
      set(r.field, r.value);
      break;
    }
    case 'FORCE_NAT': {
      // fwknopd: sscanf(val, "%15s %5u", ip, &port) must read both; the IP must be IPv4.
      const m = /^(\S{1,15})\s+(\d{1,5})/.exec(val);
      const port = m ? Number(m[2]) : Number.NaN;
      if (m === null || !IPV4.test(m[1] as string))
        report.fail(at, key, `invalid FORCE_NAT arg ${shown(val)}: need <IPv4 address> <PORT>, as fwknopd does`);
      if (!(port >= 1 && port <= 65_535)) report.fail(at, key, `invalid FORCE_NAT port ${shown(m[2] as string)}`);
      set('forceNat', { to: m[1] as string, port });
      break;
    }
    case 'FORCE_SNAT': {
      const ip = /^(\S{1,15})/.exec(val)?.[1];
      if (ip === undefined || !IPV4.test(ip))
        report.fail(at, key, `invalid FORCE_SNAT arg ${shown(val)}: need <IPv4 address>, as fwknopd does`);
      set('forceSnat', ip);
      break;
    }
    case 'FORCE_MASQUERADE':
      set('forceMasquerade', bool());
      break;
    case 'FORWARD_ALL':
      if (bool()) {
        report.fail(
          at,
          key,
          'FORWARD_ALL=Y forwards every port of the SPA source through this host; knockgate forwards only the ports a stanza names (FORCE_NAT with OPEN_PORTS), so remove it or set it to N',
        );
      }
      break;
    case 'DISABLE_DNAT':
      if (bool())
        report.fail(
          at,
          key,
          'DISABLE_DNAT=Y routes the granted traffic without DNAT: in knockgate that is a door with "hook: forward" (knockgate.yaml), not an access.conf stanza',
        );
      break;
    default:
      if (GPG_VARS.has(name)) {
        d.gpg = readGpgVariable(report, d.gpg, line);
      } else if (CMD_EXEC_VARS.has(name)) {
        const r = readCmdExecVariable(report, at, name, val);
        if (r !== null) set(r.field, r.value);
      } else {
        const known = [...KNOWN_VARS].find((k) => k.toUpperCase() === name.toUpperCase());
        report.warn(
          at,
          known !== undefined
            ? `unknown variable ${shown(name)}: fwknopd reads variable names case-sensitively, so it is not ${known}; fwknopd ignores it and so does this import`
            : `unknown variable ${shown(name)}: fwknopd ignores it ("Ignoring unknown access parameter") and so does this import`,
        );
      }
  }
  return d;
}
