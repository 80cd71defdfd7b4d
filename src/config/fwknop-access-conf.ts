/**
 * fwknop access.conf importer: reads fwknopd's access.conf (and the files its %include and
 * %include_folder directives name) and turns its stanzas into knockgate YAML.
 *
 * Contract. `importAccessConf(file, { port, interfaces })` reads only those files; everything else
 * is pure, except that ACCESS_EXPIRE dates are converted in this process's time zone (as fwknopd's
 * mktime() does on its host; a warning says so). It returns
 *   - `stanzasYaml`: the YAML list for a fwknop door's `stanzas:` (indent 0, the caller indents),
 *     one entry per SOURCE in fwknopd's order, each preceded by a `# FILE:LINE` comment;
 *   - `yaml`: a complete knockgate configuration with one fwknop door using them;
 *   - `warnings`: one entry per thing that does not carry over exactly (file, 1-based line; line 0:
 *     the file as a whole).
 * Every string in the YAML is a JSON-quoted scalar that YAML reads back verbatim. It throws a
 * ConfigError (file, line, variable) for anything fwknopd rejects, and for what knockgate cannot
 * honour without granting more than fwknopd would (NAT, command cycles, %include_keys, GnuPG-only
 * stanzas, cipher modes other than CBC and legacy). Every other variable it does not support is a
 * warning that says what happens instead; nothing is dropped silently.
 *
 * fwknopd's rules, as in fwknop 2.6.11 server/access.c (parse_access_file, parse_access_folder,
 * acc_data_is_valid, set_acc_defaults, expand_acc_ent_lists, expand_acc_int_list, add_int_ent,
 * expand_acc_port_list, parse_proto_and_port, add_acc_bool, add_acc_expire_time,
 * add_acc_expire_time_epoch, add_acc_b64_string) and the helpers they call:
 *   - lines are read with fgets into MAX_LINE_LEN (1024) bytes; a line whose first byte is `#`,
 *     `;`, CR, LF or NUL is skipped (IS_EMPTY_LINE: only the first byte counts, so an indented `#`
 *     is a variable named `#...`); any other line is sscanf(line, "%s %[^;\n\r]"): a variable name
 *     (leading whitespace skipped), then a value that stops at `;` and must not be empty, else the
 *     file is rejected; a `:` ending the name is cut (strrchr); trailing whitespace is cut from the
 *     value (chop_whitespace, new in 2.6.11: 2.6.10 keeps it; its loop never looks at the first
 *     byte, so a one-character value keeps its trailing blanks);
 *   - names are case-sensitive (CONF_VAR_IS is strcmp); SOURCE opens a stanza; other variables
 *     before the first SOURCE of a file are skipped (%include and %include_folder still run);
 *     a variable set twice in a stanza keeps the last value; KEY and KEY_BASE64 fill the same key,
 *     as do HMAC_KEY and HMAC_KEY_BASE64, and REQUIRE_SOURCE is a synonym of REQUIRE_SOURCE_ADDRESS;
 *     unknown names are logged and ignored;
 *   - %include FILE opens FILE as given (relative names from fwknopd's working directory, `/` once
 *     it runs as a daemon) and only while the including file is less than MAX_DEPTH (3) deep, the
 *     top file being 1 deep: "Refusing to go deeper than 3 levels"; variables after the %include
 *     line still belong to the including file's current stanza; %include_folder DIR (one trailing
 *     `/` cut) reads every entry whose last `.` starts `.conf` (strncmp(ext, ".conf", 5)), in
 *     readdir order, each one level deeper, with no depth check; every file must be a regular file
 *     (verify_file_perms_ownership; fwknopd only warns about modes other than 0600);
 *   - SOURCE and DESTINATION: `,`-separated items, leading whitespace skipped, each shorter than 32
 *     characters (ACCESS_BUF_LEN 33); `ANY` (any case), an address, or address/mask where the mask
 *     is 1-32 (strtol) or, when longer than 2 characters, dotted (7-15 characters); addresses are
 *     read with inet_aton (octal, hex and short forms, text after a blank ignored); host bits are
 *     masked off; DESTINATION absent: any;
 *   - OPEN_PORTS and RESTRICT_PORTS: `,`-separated proto/port items, proto tcp or udp in any case,
 *     port 0-65535 read with strtol; a request must name only OPEN_PORTS ports (when set) and none
 *     of RESTRICT_PORTS; without OPEN_PORTS fwknopd grants whatever the client asks for;
 *   - KEY, KEY_BASE64, HMAC_KEY, HMAC_KEY_BASE64: `__CHANGEME__` (any case) is rejected; base64
 *     must be letters, digits, `+`, `/`, `=` (is_base64) and is decoded up to the first `=`
 *     (b64_decode); a stanza needs a non-empty key (KEY/KEY_BASE64, or GnuPG); the encryption and
 *     HMAC keys must differ; in legacy mode keys are cut to 16 bytes; keys over 32 bytes make
 *     fwknopd refuse every packet (fko_new_with_data);
 *   - HMAC_DIGEST_TYPE: md5, sha1, sha256, sha384, sha512, sha3_256, sha3_512 (any case;
 *     hmac_digest_strtoint), SHA-256 when an HMAC key is set without it; ENCRYPTION_MODE: CBC (the
 *     default), ECB, CFB, OFB, CTR, Asymmetric, legacy (any case; enc_mode_strtoint; PCBC is listed
 *     but unsupported);
 *   - FW_ACCESS_TIMEOUT and MAX_FW_TIMEOUT: strtol, 0 to 2<<22 seconds, below 1 means the default
 *     (DEF_FW_ACCESS_TIMEOUT 30, DEF_MAX_FW_TIMEOUT 300); MAX_FW_TIMEOUT caps only a client's own
 *     timeout (set_timeout);
 *   - booleans are true when the value starts with `y` or `Y` (add_acc_bool), false otherwise;
 *   - ACCESS_EXPIRE is sscanf "%2d/%2d/%4d" (MM/DD/YYYY, two-digit years are 20xx), converted with
 *     mktime at 00:00:00 local standard time (tm_isdst 0) of that day, the start of the day;
 *     ACCESS_EXPIRE_EPOCH is strtoul; 0 (or less) means no expiry.
 *
 * knockgate's choices: relative %include paths are taken from the including file's directory
 * (a warning says fwknopd would not); %include_folder files are read in name order; a file that
 * includes itself, directly or not, is an error (fwknopd hits the depth limit, or recurses without
 * end through %include_folder); MAX_FW_TIMEOUT is always written (300 s when absent) so that a
 * door's longer maximum never lengthens a client's request; timeouts above knockgate's 24 h are
 * cut to 24 h (less access, with a warning).
 */

import { readdirSync, realpathSync } from 'node:fs';
import { tryReadTrustedFile } from './trusted-file.js';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { endpointKey, formatEndpoint, type Endpoint, type Protocol } from '../core/endpoint.js';
import {
  DEFAULT_SPA_PORT,
  FWKNOP_LEGACY_KEY_BYTES,
  MAX_CONFIG_FILE_BYTES,
  MAX_FWKNOP_ACCESS_FILES,
  MAX_GRANT_DURATION_S,
  MAX_OPEN_PORTS_PER_DOOR,
  MAX_SPA_CLIENTS_PER_DOOR,
} from '../core/limits.js';
import { fwknopKeysProblem, type FwknopHmacType } from '../core/spa/fwknop-wire.js';

export interface AccessConfImport {
  /** YAML for the `stanzas:` list of a knockgate fwknop door, indented by 0 (the caller indents). */
  readonly stanzasYaml: string;
  /** A complete knockgate config using them, for `knockgate import`. */
  readonly yaml: string;
  readonly warnings: readonly { file: string; line: number; message: string }[];
}

// fwknopd's compiled-in values (server/fwknopd_common.h, server/access.h, common/common.h, lib/fko.h).
const DEF_FW_ACCESS_TIMEOUT_S = 30;
const DEF_MAX_FW_TIMEOUT_S = 300;
const RCHK_MAX_FW_TIMEOUT_S = 2 << 22;
const MAX_DEPTH = 3;
const MAX_LINE_LEN = 1024;
const ACCESS_BUF_LEN = 33;
const MAX_IPV4_STR_LEN = 16;
const MIN_IPV4_STR_LEN = 7;
const MAX_PORT = 65_535;
const DEF_INTERFACE = 'eth0';
const DEF_SPA_PORT = DEFAULT_SPA_PORT;

const HMAC_TYPES = ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha3_256', 'sha3_512'] as const;
type HmacName = (typeof HMAC_TYPES)[number];
/** enc_mode_strtoint's table: name → supported by fwknop. */
const ENC_MODES: Readonly<Record<string, boolean>> = { cbc: true, ecb: true, cfb: true, pcbc: false, ofb: true, ctr: true, asymmetric: true, legacy: true };

const GPG_VARS = new Set([
  'GPG_HOME_DIR', 'GPG_EXE', 'GPG_DECRYPT_ID', 'GPG_DECRYPT_PW', 'GPG_ALLOW_NO_PW', 'GPG_REQUIRE_SIG',
  'GPG_DISABLE_SIG', 'GPG_IGNORE_SIG_VERIFY_ERROR', 'GPG_REMOTE_ID', 'GPG_FINGERPRINT_ID',
]);
const CMD_EXEC_VARS = new Set(['ENABLE_CMD_EXEC', 'ENABLE_CMD_SUDO_EXEC', 'CMD_SUDO_EXEC_USER', 'CMD_SUDO_EXEC_GROUP', 'CMD_EXEC_USER', 'CMD_EXEC_GROUP']);
const KNOWN_VARS = new Set([
  '%include', '%include_folder', '%include_keys', 'SOURCE', 'DESTINATION', 'OPEN_PORTS', 'RESTRICT_PORTS', 'KEY', 'KEY_BASE64',
  'HMAC_DIGEST_TYPE', 'HMAC_KEY_BASE64', 'HMAC_KEY', 'FW_ACCESS_TIMEOUT', 'MAX_FW_TIMEOUT', 'ENCRYPTION_MODE',
  'CMD_CYCLE_OPEN', 'CMD_CYCLE_CLOSE', 'CMD_CYCLE_TIMER', 'REQUIRE_USERNAME', 'REQUIRE_SOURCE_ADDRESS', 'REQUIRE_SOURCE',
  'ACCESS_EXPIRE', 'ACCESS_EXPIRE_EPOCH', 'FORCE_NAT', 'FORCE_SNAT', 'FORCE_MASQUERADE', 'DISABLE_DNAT', 'FORWARD_ALL',
  ...GPG_VARS, ...CMD_EXEC_VARS,
]);

interface Loc {
  readonly file: string;
  readonly line: number;
}
interface Setting<T> extends Loc {
  readonly value: T;
  /** The variable as written, for messages. */
  readonly key: string;
}
interface KeyValue {
  readonly bytes: Buffer;
  readonly base64: boolean;
}
interface Draft extends Loc {
  readonly source: string;
  destination?: Setting<string>;
  openPorts?: Setting<string>;
  restrictPorts?: Setting<string>;
  key?: Setting<KeyValue>;
  hmacKey?: Setting<KeyValue>;
  hmacType?: Setting<HmacName>;
  mode?: Setting<'cbc' | 'legacy'>;
  fwTimeout?: Setting<number>;
  maxTimeout?: Setting<number>;
  username?: Setting<string>;
  requireSource?: Setting<boolean>;
  /** Unix seconds; 0: no expiry (fwknopd's `access_expire_time > 0` test). */
  expire?: Setting<number>;
  gpg?: Loc;
}

type SettingField = Exclude<keyof Draft, keyof Loc | 'source' | 'gpg'>;

interface Stanza {
  readonly loc: Loc;
  readonly source: readonly string[];
  readonly destination: readonly string[];
  readonly openPorts: readonly Endpoint[] | null;
  readonly restrictPorts: readonly Endpoint[] | null;
  readonly key: { readonly field: 'key' | 'key_base64'; readonly text: string };
  readonly hmacKey: { readonly field: 'hmac_key' | 'hmac_key_base64'; readonly text: string } | null;
  readonly hmacType: HmacName;
  readonly mode: 'cbc' | 'legacy';
  readonly fwTimeoutS: number;
  readonly maxTimeoutS: number;
  readonly username: string | null;
  readonly requireSource: boolean;
  readonly expire: number | null;
}

// ---------------------------------------------------------------------------------------------
// C helpers, C locale

const C_SPACE = ' \t\n\v\f\r';
const isCSpace = (c: string | undefined): boolean => c !== undefined && c !== '' && C_SPACE.includes(c);
const skipSpace = (s: string, i: number): number => {
  while (isCSpace(s[i])) i++;
  return i;
};
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** chop_whitespace() of 2.6.11, loop bound included: index 0 is never examined. */
function chopWhitespace(s: string): string {
  for (let i = s.length - 1; i > 0; i--) {
    if (!isCSpace(s[i])) return s.slice(0, i + 1);
  }
  return s;
}

/** strtol(s, &end, 10): value (null when there are no digits, i.e. 0) and the text after it. */
function cStrtol(s: string): { value: number; digits: boolean; rest: string } {
  let i = skipSpace(s, 0);
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') {
    if (s[i] === '-') sign = -1;
    i++;
  }
  const start = i;
  while (isDigit(s[i])) i++;
  if (i === start) return { value: 0, digits: false, rest: s };
  // Long digit strings become large (or infinite) numbers: out of every range fwknopd accepts.
  return { value: sign * Number(s.slice(start, i)), digits: true, rest: s.slice(i) };
}

/** glibc inet_aton(): the IPv4 address (host order) or null; it stops at the first blank. */
function inetAton(s: string): number | null {
  const parts: number[] = [];
  let i = 0;
  let val = 0;
  let digit = false;
  for (;;) {
    if (!isDigit(s[i])) return null;
    val = 0;
    let base = 10;
    digit = false;
    if (s[i] === '0') {
      i++;
      if (s[i] === 'x' || s[i] === 'X') {
        base = 16;
        i++;
      } else {
        base = 8;
        digit = true;
      }
    }
    for (;;) {
      const c = s[i];
      if (isDigit(c)) {
        if (base === 8 && (c === '8' || c === '9')) return null;
        val = val * base + Number(c);
      } else if (base === 16 && c !== undefined && /^[0-9a-fA-F]$/.test(c)) {
        val = val * 16 + parseInt(c, 16);
      } else break;
      if (val > 0xffffffff) return null;
      digit = true;
      i++;
    }
    if (s[i] === '.') {
      if (parts.length > 2 || val > 0xff) return null;
      parts.push(val);
      i++;
    } else break;
  }
  if (!(i >= s.length || isCSpace(s[i]))) return null;
  if (!digit) return null;
  const limits = [0xffffffff, 0xffffff, 0xffff, 0xff];
  if (val > (limits[parts.length] as number)) return null;
  let addr = val;
  parts.forEach((p, n) => {
    addr += p * 2 ** (24 - 8 * n);
  });
  return addr >>> 0;
}

const formatIPv4 = (a: number): string => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');

/** The prefix length of a contiguous netmask, or null. */
function prefixOf(mask: number): number | null {
  for (let p = 0; p <= 32; p++) {
    const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    if (m === mask >>> 0) return p;
  }
  return null;
}

/** b64_decode() of lib/base64.c, after is_base64() has passed: stops at the first `=`. */
function fwknopBase64Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: number[] = [];
  let v = 0;
  for (let i = 0; i < text.length && text[i] !== '='; i++) {
    v = ((v << 6) + alphabet.indexOf(text[i] as string)) & 0xffffff;
    if (i & 3) out.push((v >> (6 - 2 * (i & 3))) & 0xff);
  }
  return Buffer.from(out);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** The text of a value read byte for byte (latin1), when its bytes are UTF-8; null otherwise. */
function utf8Of(latin1: string): string | null {
  try {
    return UTF8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return null;
  }
}

/** A string as a YAML double-quoted scalar that reads back verbatim: JSON's quoting, plus escapes YAML needs. */
function q(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
const commentText = (s: string): string => s.replace(/[\r\n\u0085\u2028\u2029]/g, ' ');
const shown = (latin1: string): string => JSON.stringify(utf8Of(latin1) ?? latin1);

// ---------------------------------------------------------------------------------------------

class Importer {
  readonly warnings: { file: string; line: number; message: string }[] = [];
  readonly drafts: Draft[] = [];
  private readonly reading: string[] = [];
  private filesRead = 0;

  warn(at: Loc, message: string): void {
    this.warnings.push({ file: at.file, line: at.line, message });
  }

  fail(at: Loc | string, key: string | undefined, detail: string): never {
    if (typeof at === 'string') throw new ConfigError(at, undefined, key, detail);
    throw new ConfigError(at.file, at.line === 0 ? undefined : at.line, key, detail);
  }

  /** parse_access_file(): `depth` is this file's depth (the top file is 1). */
  parseFile(file: string, depth: number, from: (Loc & { key: string }) | null): void {
    const whereOpened = (detail: string): never => (from ? this.fail(from, from.key, detail) : this.fail(file, undefined, detail));
    if (++this.filesRead > MAX_FWKNOP_ACCESS_FILES) whereOpened(`more than ${MAX_FWKNOP_ACCESS_FILES} access files`);
    let real: string;
    // Owner, writability and directories as for every file knockgate trusts (trusted-file.ts):
    // the stanzas hold keys and say which ports open.
    const read = tryReadTrustedFile(file, MAX_CONFIG_FILE_BYTES);
    if ('problem' in read) {
      if (read.problem === 'open') return whereOpened(`could not open access file ${file}: ${read.detail}`);
      if (read.problem === 'directory') return whereOpened(`${file}: ${read.detail}`);
      return whereOpened(`${file} is ${read.detail}${read.detail === 'not a regular file' ? ' (fwknopd refuses it)' : ''}`);
    }
    const { data, stat: st } = read;
    try {
      real = realpathSync(file);
    } catch (err) {
      return whereOpened(`could not open access file ${file}: ${(err as Error).message}`);
    }
    if ((st.mode & 0o077) !== 0) {
      this.warn({ file, line: 0 }, `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: this file holds keys and should be readable by its owner only (fwknopd warns unless it is 0600)`);
    }
    if (this.reading.includes(real)) {
      return whereOpened(`include loop: ${file} is already being read (fwknopd refuses to go deeper than ${MAX_DEPTH} levels of %include, and recurses without end through %include_folder)`);
    }
    this.reading.push(real);
    let curr: Draft | null = null;
    const text = data.toString('latin1');
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((raw, n) => {
      const at: Loc = { file, line: n + 1 };
      if (Buffer.byteLength(raw, 'latin1') > MAX_LINE_LEN - 1) this.fail(at, undefined, `line longer than ${MAX_LINE_LEN - 1} bytes: fwknopd would read it as two lines`);
      const first = raw[0];
      if (first === undefined || first === '#' || first === ';' || first === '\r' || first === '\0') return;
      if (raw.includes('\0')) this.fail(at, undefined, 'NUL byte in line (fwknopd would cut the line there)');
      // sscanf(line, "%s %[^;\n\r]", var, val)
      let i = skipSpace(raw, 0);
      const varStart = i;
      while (i < raw.length && !isCSpace(raw[i])) i++;
      let name = raw.slice(varStart, i);
      i = skipSpace(raw, i);
      const valStart = i;
      while (i < raw.length && raw[i] !== ';' && raw[i] !== '\r') i++;
      const rawVal = raw.slice(valStart, i);
      if (name === '' || rawVal === '') this.fail(at, name || undefined, `invalid access file entry ${shown(raw)}: fwknopd needs "VARIABLE value"`);
      const colon = name.lastIndexOf(':');
      if (colon >= 0) name = name.slice(0, colon);
      const val = chopWhitespace(rawVal);
      const afterSemicolon = raw[i] === ';' ? raw.slice(i + 1).trim() : '';
      curr = this.variable(at, name, val, rawVal, afterSemicolon, curr, depth);
    });
    this.reading.pop();
  }

  /** One `VARIABLE value` line; returns the file's current stanza. */
  private variable(at: Loc, name: string, val: string, rawVal: string, afterSemicolon: string, curr: Draft | null, depth: number): Draft | null {
    const key = name;
    if (name === '%include') {
      if (depth >= MAX_DEPTH) this.fail(at, key, `refusing to go deeper than ${MAX_DEPTH} levels (fwknopd's MAX_DEPTH): ${shown(val)}`);
      this.parseFile(this.includePath(at, key, val), depth + 1, { ...at, key });
      return curr;
    }
    if (name === '%include_folder') {
      this.parseFolder(at, key, val, depth);
      return curr;
    }
    if (name === 'SOURCE') {
      const d: Draft = { file: at.file, line: at.line, source: val };
      this.drafts.push(d);
      if (this.drafts.length > MAX_SPA_CLIENTS_PER_DOOR) this.fail(at, key, `more than ${MAX_SPA_CLIENTS_PER_DOOR} stanzas`);
      return d;
    }
    if (curr === null) {
      this.warn(at, `${name} before the first SOURCE of this file: fwknopd ignores it, and so does this import`);
      return curr;
    }
    const d: Draft = curr;
    const set = (field: SettingField, value: unknown): void => {
      const prev = d[field];
      if (prev !== undefined) this.warn(at, `${name} overrides ${prev.key} of ${prev.file}:${prev.line} in the same stanza; fwknopd uses the last value`);
      (d as unknown as Record<SettingField, Setting<unknown>>)[field] = { file: at.file, line: at.line, key, value };
    };
    const changeme = (): void => {
      if (val.toLowerCase() === '__changeme__') this.fail(at, key, `value is not set (still __CHANGEME__) in the stanza of ${d.file}:${d.line}; fwknopd refuses to start`);
    };
    const textValue = (): void => {
      if (val !== rawVal) this.warn(at, `trailing blanks cut from the value as fwknopd 2.6.11 does (2.6.10 keeps them as part of the value)`);
      if (afterSemicolon !== '') this.warn(at, `the value ends at ";" (fwknopd reads ${shown(val)}; the rest of the line is ignored)`);
      if (/[ \t]#/.test(val)) this.warn(at, `"#" here is part of the value: access.conf has no end-of-line comments`);
    };
    const bool = (): boolean => {
      const b = val[0] === 'y' || val[0] === 'Y';
      if (!/^[YyNn]$/.test(val)) this.warn(at, `fwknopd reads ${shown(val)} as ${b ? 'Y' : 'N'} (only a leading "Y" or "y" means yes)`);
      return b;
    };
    const base64Key = (): Buffer => {
      if (!/^[A-Za-z0-9+/=]+$/.test(val)) this.fail(at, key, `${shown(val)} doesn't look like base64-encoded data (fwknopd's is_base64)`);
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
        if (!(HMAC_TYPES as readonly string[]).includes(t)) this.fail(at, key, `${shown(val)} must be one of {${HMAC_TYPES.join(',')}}`);
        set('hmacType', t as HmacName);
        break;
      }
      case 'ENCRYPTION_MODE': {
        const m = val.toLowerCase();
        if (ENC_MODES[m] !== true) this.fail(at, key, `unrecognized ENCRYPTION_MODE ${shown(val)}, use {CBC,CTR,legacy,Asymmetric} (fwknopd)`);
        if (m !== 'cbc' && m !== 'legacy') {
          this.fail(at, key, `${shown(val)}: knockgate implements fwknop's CBC and legacy modes only${m === 'asymmetric' ? ' (Asymmetric is GnuPG, which is not supported)' : ''}`);
        }
        set('mode', m as 'cbc' | 'legacy');
        break;
      }
      case 'FW_ACCESS_TIMEOUT':
      case 'MAX_FW_TIMEOUT':
        set(name === 'FW_ACCESS_TIMEOUT' ? 'fwTimeout' : 'maxTimeout', this.timeout(at, key, val));
        break;
      case 'REQUIRE_USERNAME': {
        textValue();
        const u = utf8Of(val);
        if (u === null) this.fail(at, key, 'the user name is not UTF-8 text');
        set('username', u);
        break;
      }
      case 'REQUIRE_SOURCE_ADDRESS':
      case 'REQUIRE_SOURCE':
        set('requireSource', bool());
        break;
      case 'ACCESS_EXPIRE':
        set('expire', this.expireDate(at, key, val));
        break;
      case 'ACCESS_EXPIRE_EPOCH':
        set('expire', this.expireEpoch(at, key, val));
        break;
      case '%include_keys':
        this.fail(at, key, 'not supported: knockgate reads keys only from the stanza itself (and fwknopd drops the stanza if the key file is unusable); put KEY/KEY_BASE64 and HMAC_KEY/HMAC_KEY_BASE64 in the stanza');
        break;
      case 'CMD_CYCLE_OPEN':
      case 'CMD_CYCLE_CLOSE':
      case 'CMD_CYCLE_TIMER':
        this.fail(at, key, 'command cycles are not supported: fwknopd runs CMD_CYCLE_OPEN/CLOSE instead of opening the firewall for this stanza, and ignoring them would make knockgate open ports that fwknopd never opens');
        break;
      case 'FORCE_NAT':
      case 'FORCE_SNAT':
        this.fail(at, key, 'NAT is not supported: fwknopd forwards this stanza\'s requests to another address, and ignoring it would make knockgate open the requested ports on this host instead');
        break;
      case 'FORCE_MASQUERADE':
      case 'FORWARD_ALL':
        if (bool()) {
          this.fail(at, key, name === 'FORCE_MASQUERADE'
            ? 'NAT is not supported: fwknopd needs FORCE_NAT or FORWARD_ALL with it and then forwards this stanza\'s requests, which knockgate would open on this host instead'
            : 'NAT is not supported: FORWARD_ALL=Y forwards NAT requests to any internal address; knockgate cannot do that, remove it or set it to N');
        }
        this.warn(at, `${name} N has no effect in knockgate, which does not do NAT (NAT access requests are refused)`);
        break;
      case 'DISABLE_DNAT':
        bool();
        this.warn(at, `DISABLE_DNAT only affects NAT access, which knockgate does not do: ignored (NAT access requests are refused)`);
        break;
      default:
        if (GPG_VARS.has(name)) {
          if (name === 'GPG_DECRYPT_PW') changeme();
          if (d.gpg === undefined) d.gpg = at;
          this.warn(at, `${name}: GnuPG is not supported; this stanza accepts only Rijndael packets made with its KEY/KEY_BASE64, and GnuPG-encrypted packets are refused`);
        } else if (CMD_EXEC_VARS.has(name)) {
          this.warn(at, `${name}: command execution is not supported; SPA command messages for this stanza are refused (fwknopd would run them${name === 'ENABLE_CMD_EXEC' || name === 'ENABLE_CMD_SUDO_EXEC' ? ' when set to Y' : ''})`);
        } else {
          const known = [...KNOWN_VARS].find((k) => k.toUpperCase() === name.toUpperCase());
          this.warn(
            at,
            known !== undefined
              ? `unknown variable ${shown(name)}: fwknopd reads variable names case-sensitively, so it is not ${known}; fwknopd ignores it and so does this import`
              : `unknown variable ${shown(name)}: fwknopd ignores it ("Ignoring unknown access parameter") and so does this import`,
          );
        }
    }
    return d;
  }

  private includePath(at: Loc, key: string, val: string): string {
    const p = utf8Of(val);
    if (p === null) return this.fail(at, key, 'the path is not UTF-8 text');
    if (isAbsolute(p)) return p;
    const abs = resolve(dirname(at.file), p);
    this.warn(at, `relative path ${JSON.stringify(p)} read as ${abs}; fwknopd opens it from its working directory instead (/ when it runs as a daemon)`);
    return abs;
  }

  /** parse_access_folder(). */
  private parseFolder(at: Loc, key: string, val: string, depth: number): void {
    const dir0 = this.includePath(at, key, val);
    const dir = dir0.length > 1 && dir0.endsWith('/') ? dir0.slice(0, -1) : dir0;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      return this.fail(at, key, `access folder ${dir} could not be opened: ${(err as Error).message}`);
    }
    const confs = names
      .filter((n) => {
        const dot = n.lastIndexOf('.');
        return dot >= 0 && n.slice(dot, dot + 5) === '.conf';
      })
      .sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    if (confs.length > 1) this.warn(at, `${confs.length} files read in name order (${confs.join(', ')}); fwknopd reads them in directory order, which may differ, and stanza order decides which stanza a packet matches first`);
    if (confs.length === 0) this.warn(at, `no *.conf file in ${dir}`);
    for (const n of confs) this.parseFile(join(dir, n), depth + 1, { ...at, key });
  }

  private timeout(at: Loc, key: string, val: string): number {
    const r = cStrtol(val);
    if (r.value < 0 || r.value > RCHK_MAX_FW_TIMEOUT_S) this.fail(at, key, `${shown(val)} is not in range [0,${RCHK_MAX_FW_TIMEOUT_S}] seconds`);
    if (!r.digits) this.warn(at, `fwknopd reads ${shown(val)} as 0, which means its default`);
    else if (r.rest.trim() !== '') this.warn(at, `fwknopd reads ${shown(val)} as ${r.value} seconds (strtol ignores the rest)`);
    return r.value;
  }

  private expireDate(at: Loc, key: string, val: string): number {
    // sscanf(val, "%2d/%2d/%4d", &mon, &mday, &year)
    let i = 0;
    const field = (width: number): number | null => {
      i = skipSpace(val, i);
      const start = i;
      if (val[i] === '+' || val[i] === '-') i++;
      while (i - start < width && isDigit(val[i])) i++;
      const t = val.slice(start, i);
      return /\d/.test(t) ? Number(t) : null;
    };
    const fields: number[] = [];
    for (const [width, sep] of [[2, '/'], [2, '/'], [4, '']] as const) {
      const v = field(width);
      if (v === null) break;
      fields.push(v);
      if (sep !== '') {
        if (val[i] !== sep) break;
        i++;
      }
    }
    const [mon, mday, year] = fields;
    if (fields.length !== 3 || mon === undefined || mday === undefined || year === undefined) {
      return this.fail(at, key, `invalid date value ${shown(val)} (need MM/DD/YYYY)`);
    }
    // add_acc_expire_time(): tm_mon-1 when > 0; years above 1900 are full years, below 100 are 20xx.
    const tmMon = mon > 0 ? mon - 1 : mon;
    const tmYear = year > 1900 ? year - 1900 : year < 100 ? year + 100 : year;
    // mktime() with tm_isdst = 0: that wall-clock time in the zone's standard (non-DST) offset.
    const utc = Date.UTC(1900 + tmYear, tmMon, mday, 0, 0, 0);
    const y = new Date(utc).getUTCFullYear();
    const standardOffsetMin = Math.max(new Date(y, 0, 1).getTimezoneOffset(), new Date(y, 6, 1).getTimezoneOffset());
    const epoch = Math.floor(utc / 1000) + standardOffsetMin * 60;
    const offsetText = `UTC${standardOffsetMin <= 0 ? '+' : '-'}${String(Math.floor(Math.abs(standardOffsetMin) / 60)).padStart(2, '0')}:${String(Math.abs(standardOffsetMin) % 60).padStart(2, '0')}`;
    if (epoch <= 0) this.fail(at, key, `${shown(val)} is at or before 1970-01-01, which fwknopd treats as "no expiry"; remove ACCESS_EXPIRE or give a real date`);
    const day = new Date(utc).toISOString().slice(0, 10);
    const odd = i < val.length || !/^\d{2}\/\d{2}\/\d{4}$/.test(val);
    this.warn(
      at,
      `ACCESS_EXPIRE ${shown(val)} is the start of ${day} in local standard time (fwknopd's mktime); converted in this machine's time zone (${offsetText}) to access_expire_epoch ${epoch}${odd ? ' (not written as MM/DD/YYYY: check that this is the day you mean)' : ''}; use ACCESS_EXPIRE_EPOCH for an exact instant`,
    );
    return epoch;
  }

  private expireEpoch(at: Loc, key: string, val: string): number {
    if (!/^\+?\d+$/.test(val.trim())) {
      const r = cStrtol(val);
      this.fail(at, key, `${shown(val)} is not a number of seconds (fwknopd's strtoul would read ${r.digits ? r.value : 0}${r.value <= 0 ? ', i.e. no expiry' : ''}); write the epoch seconds as digits`);
    }
    const n = Number(val.trim());
    if (!Number.isSafeInteger(n)) this.fail(at, key, `${shown(val)} is out of range`);
    if (n === 0) this.warn(at, 'ACCESS_EXPIRE_EPOCH 0 means no expiry to fwknopd, and to this import');
    return n;
  }

  // -------------------------------------------------------------------------------------------
  // expand_acc_ent_lists(), set_acc_defaults(), acc_data_is_valid()

  finish(d: Draft): Stanza {
    const at: Loc = d;
    const source = this.addressList({ file: d.file, line: d.line, key: 'SOURCE', value: d.source });
    const destination = d.destination ? this.addressList(d.destination) : ['ANY'];
    const openPorts = d.openPorts ? this.portList(d.openPorts) : null;
    const restrictPorts = d.restrictPorts ? this.portList(d.restrictPorts) : null;
    if (openPorts === null) {
      this.warn(at, 'no OPEN_PORTS: fwknopd opens whatever ports the client asks for (except RESTRICT_PORTS); knockgate opens only ports in the door\'s "open" list for this stanza');
    }
    const key = d.key;
    if (key === undefined || key.value.bytes.length === 0) {
      if (d.gpg !== undefined) this.fail(at, 'KEY', 'GnuPG-only stanzas are not supported: this stanza has no KEY or KEY_BASE64, and knockgate cannot decrypt GnuPG packets');
      this.fail(key ?? at, key?.key ?? 'KEY', `no keys found for access stanza source ${shown(d.source)}: give KEY or KEY_BASE64`);
    }
    const mode = d.mode?.value ?? 'cbc';
    const hmac = d.hmacKey;
    if (hmac !== undefined && hmac.value.bytes.length === 0) this.fail(hmac, hmac.key, 'the HMAC key is empty');
    if (hmac !== undefined && hmac.value.bytes.equals(key.value.bytes)) {
      this.fail(hmac, hmac.key, `the encryption passphrase and HMAC key should not be identical for access stanza source ${shown(d.source)} (fwknopd refuses it)`);
    }
    if (hmac === undefined) {
      this.warn(at, 'no HMAC_KEY: packets for this stanza are not authenticated before decryption (fwknop\'s legacy mode), which is weaker; add HMAC_KEY_BASE64 (fwknop --key-gen) to both sides');
      if (d.hmacType !== undefined) this.warn(d.hmacType, 'HMAC_DIGEST_TYPE has no effect without an HMAC key');
    }
    if (mode === 'legacy' && key.value.bytes.length > FWKNOP_LEGACY_KEY_BYTES) {
      this.warn(key, `legacy mode uses only the first ${FWKNOP_LEGACY_KEY_BYTES} bytes of the key (fwknopd truncates it too)`);
    }
    const hmacType = d.hmacType?.value ?? 'sha256';
    const problem = fwknopKeysProblem({
      key: new Uint8Array(key.value.bytes),
      hmacKey: hmac ? new Uint8Array(hmac.value.bytes) : null,
      hmacType: hmacType.replace('_', '-') as FwknopHmacType,
      encryptionMode: mode,
    });
    if (problem !== null) {
      const where = problem.includes('HMAC') && hmac ? hmac : key;
      this.fail(where, where.key, `${problem} (fwknopd would refuse every packet for this stanza)`);
    }
    const fwTimeoutS = this.capped(d.fwTimeout, DEF_FW_ACCESS_TIMEOUT_S);
    const maxTimeoutS = this.capped(d.maxTimeout, DEF_MAX_FW_TIMEOUT_S);
    if (maxTimeoutS < fwTimeoutS) {
      this.warn(d.maxTimeout ?? at, `MAX_FW_TIMEOUT (${maxTimeoutS}s) < FW_ACCESS_TIMEOUT (${fwTimeoutS}s): as in fwknopd, it caps only the timeouts clients ask for`);
    }
    const expire = d.expire === undefined || d.expire.value <= 0 ? null : d.expire.value;
    return {
      loc: { file: d.file, line: d.line },
      source,
      destination,
      openPorts,
      restrictPorts,
      key: this.keyText(key.value, 'key', 'key_base64'),
      hmacKey: hmac ? this.keyText(hmac.value, 'hmac_key', 'hmac_key_base64') : null,
      hmacType,
      mode,
      fwTimeoutS,
      maxTimeoutS,
      username: d.username?.value ?? null,
      requireSource: d.requireSource?.value ?? false,
      expire,
    };
  }

  private keyText<F extends string, B extends string>(k: KeyValue, plain: F, b64: B): { field: F | B; text: string } {
    const text = k.base64 ? null : utf8Of(k.bytes.toString('latin1'));
    return text !== null ? { field: plain, text } : { field: b64, text: k.bytes.toString('base64') };
  }

  /** A timeout in seconds: below 1 is fwknopd's default; above knockgate's maximum, that maximum. */
  private capped(s: Setting<number> | undefined, def: number): number {
    if (s === undefined || s.value < 1) return def;
    if (s.value > MAX_GRANT_DURATION_S) {
      this.warn(s, `${s.key} ${s.value}s is longer than knockgate's longest grant (${MAX_GRANT_DURATION_S}s) and is cut to it`);
      return MAX_GRANT_DURATION_S;
    }
    return s.value;
  }

  /** expand_acc_int_list() + add_int_ent(): `["ANY"]` or normalised addresses and prefixes. */
  private addressList(s: Setting<string>): string[] {
    const out: string[] = [];
    let any = false;
    for (const item of splitList(s.value)) {
      if (item.length + 1 >= ACCESS_BUF_LEN) this.fail(s, s.key, `list item ${shown(item)} is ${ACCESS_BUF_LEN - 1} characters or longer (fwknopd's limit)`);
      if (item.toLowerCase() === 'any') {
        any = true;
        continue;
      }
      const bad = (why: string): never => this.fail(s, s.key, `invalid ${s.key} ${shown(item)}: ${why}`);
      let ipText = item;
      let mask: number;
      let needShift = true;
      let maskNote = '';
      const slash = item.indexOf('/');
      if (slash >= 0) {
        if (slash >= MAX_IPV4_STR_LEN) bad('address too long');
        const maskText = item.slice(slash + 1);
        if (maskText.length > 2) {
          if (maskText.length < MIN_IPV4_STR_LEN || maskText.length >= MAX_IPV4_STR_LEN) bad(`invalid mask ${shown(maskText)}`);
          const m = inetAton(maskText);
          if (m === null) bad(`invalid mask ${shown(maskText)}`);
          mask = m as number;
          needShift = false;
          if (formatIPv4(mask) !== maskText) maskNote = ` (mask ${shown(maskText)} read as ${formatIPv4(mask)})`;
        } else if (maskText.length > 0) {
          const r = cStrtol(maskText);
          if (r.value < 1 || r.value > 32) bad('the mask must be 1 to 32');
          mask = r.value;
          if (r.rest.trim() !== '') maskNote = ` (mask ${shown(maskText)} read as /${mask})`;
        } else {
          return bad('missing mask value');
        }
        ipText = item.slice(0, slash);
      } else {
        mask = 32;
        if (item.length >= MAX_IPV4_STR_LEN) bad('address too long');
      }
      const ip = inetAton(ipText);
      if (ip === null) bad(`not an IPv4 address (fwknopd's inet_aton fails; fwknopd's access lists are IPv4 only)`);
      const bits = mask === 32 ? 0xffffffff : needShift && mask > 0 && mask < 32 ? (0xffffffff << (32 - mask)) >>> 0 : mask;
      const prefix = prefixOf(bits);
      if (prefix === null) return bad(`the netmask ${formatIPv4(bits)} is not contiguous, which knockgate cannot express`);
      const network = ((ip as number) & bits) >>> 0;
      const text = prefix === 32 ? formatIPv4(network) : `${formatIPv4(network)}/${prefix}`;
      const written = ipText.replace(/[ \t\n\v\f\r]+$/, '');
      if (written !== formatIPv4(ip as number) || maskNote !== '') {
        this.warn(s, `fwknopd reads ${shown(item)} as ${text}${maskNote} (inet_aton/strtol); imported as ${text}`);
      }
      if (!out.includes(text)) out.push(text);
    }
    return any ? ['ANY'] : out;
  }

  /** expand_acc_port_list() + parse_proto_and_port(). */
  private portList(s: Setting<string>): Endpoint[] {
    const out: Endpoint[] = [];
    for (const item of splitList(s.value)) {
      if (item.length + 1 >= ACCESS_BUF_LEN) this.fail(s, s.key, `list item ${shown(item)} is ${ACCESS_BUF_LEN - 1} characters or longer (fwknopd's limit)`);
      const slash = item.indexOf('/');
      if (slash < 0) this.fail(s, s.key, `parse error on access port entry ${shown(item)}: need proto/port such as tcp/22`);
      const protoText = item.slice(0, slash);
      const proto = protoText.toLowerCase();
      if (proto !== 'tcp' && proto !== 'udp') this.fail(s, s.key, `invalid protocol in access port entry ${shown(item)}: tcp or udp`);
      const r = cStrtol(item.slice(slash + 1));
      if (r.value < 0 || r.value > MAX_PORT) this.fail(s, s.key, `invalid port in ${shown(item)}, must be in [0,${MAX_PORT}]`);
      if (r.value === 0) this.fail(s, s.key, `fwknopd reads ${shown(item)} as port 0, which knockgate cannot open or restrict`);
      if (r.rest.trim() !== '') this.warn(s, `fwknopd reads ${shown(item)} as ${proto}/${r.value} (strtol ignores the rest)`);
      const e: Endpoint = { proto: proto as Protocol, port: r.value };
      if (!out.some((o) => o.proto === e.proto && o.port === e.port)) out.push(e);
    }
    if (out.length > MAX_OPEN_PORTS_PER_DOOR) this.fail(s, s.key, `more than ${MAX_OPEN_PORTS_PER_DOOR} ports, knockgate's limit per door`);
    return out;
  }
}

/** The items of a `,`-separated list as fwknopd cuts them: leading whitespace skipped, the rest kept. */
function splitList(value: string): string[] {
  return value.split(',').map((item) => item.slice(skipSpace(item, 0)));
}

// ---------------------------------------------------------------------------------------------
// YAML

function stanzaYaml(s: Stanza): string {
  const list = (xs: readonly string[]): string => `[${xs.map(q).join(', ')}]`;
  const out = [`# ${commentText(`${s.loc.file}:${s.loc.line}`)}`, `- source: ${list(s.source)}`];
  const field = (k: string, v: string): void => {
    out.push(`  ${k}: ${v}`);
  };
  field('destination', list(s.destination));
  if (s.openPorts) field('open_ports', list(s.openPorts.map(formatEndpoint)));
  if (s.restrictPorts) field('restrict_ports', list(s.restrictPorts.map(formatEndpoint)));
  field(s.key.field, q(s.key.text));
  if (s.hmacKey) field(s.hmacKey.field, q(s.hmacKey.text));
  field('hmac_digest_type', q(s.hmacType));
  field('encryption_mode', q(s.mode));
  field('fw_access_timeout', q(`${s.fwTimeoutS}s`));
  field('max_fw_timeout', q(`${s.maxTimeoutS}s`));
  if (s.username !== null) field('require_username', q(s.username));
  field('require_source_address', s.requireSource ? 'true' : 'false');
  if (s.expire !== null) field('access_expire_epoch', String(s.expire));
  return out.join('\n') + '\n';
}

const indent = (text: string, by: string): string =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');

export function importAccessConf(file: string, options?: { port?: number; interfaces?: string[] }): AccessConfImport {
  const port = options?.port ?? DEF_SPA_PORT;
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) throw new ConfigError(file, undefined, 'port', `the SPA port must be 1 to ${MAX_PORT}, got ${String(port)}`);
  const interfaces = options?.interfaces ?? [DEF_INTERFACE];
  if (interfaces.length === 0 || interfaces.some((i) => typeof i !== 'string' || i === '')) {
    throw new ConfigError(file, undefined, 'interfaces', 'name at least one interface');
  }

  const im = new Importer();
  im.parseFile(file, 1, null);
  if (im.drafts.length === 0) throw new ConfigError(file, undefined, 'SOURCE', 'could not find a valid SOURCE stanza in the access file (fwknopd refuses to start)');
  const stanzas = im.drafts.map((d) => im.finish(d));

  const open: Endpoint[] = [];
  const seen = new Set<number>();
  for (const s of stanzas) {
    for (const e of s.openPorts ?? []) {
      const k = endpointKey(e.proto, e.port);
      if (!seen.has(k)) {
        seen.add(k);
        open.push(e);
      }
    }
  }
  if (open.length === 0) {
    im.warn({ file, line: 0 }, 'no stanza has OPEN_PORTS, so the generated door\'s "open" list is empty: list the ports the door may open there (knockgate refuses a door that opens nothing)');
  } else if (open.length > MAX_OPEN_PORTS_PER_DOOR) {
    im.warn({ file, line: 0 }, `the stanzas' OPEN_PORTS name ${open.length} ports, more than a knockgate door may open (${MAX_OPEN_PORTS_PER_DOOR}); split them over several doors`);
  }
  const maxDurationS = Math.max(DEF_FW_ACCESS_TIMEOUT_S, ...stanzas.map((s) => s.maxTimeoutS));

  const stanzasYaml = stanzas.map(stanzaYaml).join('');
  const yaml = [
    `# imported from ${commentText(file)} by knockgate import`,
    `interfaces: [${interfaces.map(q).join(', ')}]`,
    '# spa:',
    '#   server_key: "/etc/knockgate/server.key"   # only needed by native SPA doors',
    'doors:',
    `  - name: ${q('fwknop')}`,
    '    fwknop:',
    `      port: ${port}`,
    `      capture: ${q('pcap')}            # fwknopd's default; "socket" also works`,
    `    open: [${open.map((e) => q(formatEndpoint(e))).join(', ')}]${open.length === 0 ? '   # fwknopd opens whatever clients ask for: list the ports this door may open' : ''}`,
    `    duration: ${q(`${DEF_FW_ACCESS_TIMEOUT_S}s`)}`,
    `    max_duration: ${q(`${maxDurationS}s`)}`,
    '    stanzas:',
    indent(stanzasYaml, '      ').replace(/\n$/, ''),
    '',
  ].join('\n');
  return { stanzasYaml, yaml, warnings: im.warnings };
}
