/**
 * fwknop's client rc file (~/.fwknoprc), read so that `knockgate knock --fwknoprc` sends what
 * `fwknop -n NAME` would, from the file fwknop users already have. The format, as the fwknop 2.6
 * client reads it (client/config_init.c): `[NAME]` starts a stanza, `VARIABLE value` lines (the
 * value is the rest of the line, trimmed), `#` comments; [default] applies to every stanza and a
 * named stanza's own lines override it. An HMAC key in the stanza means the packet carries an
 * HMAC, whatever USE_HMAC says (checked against the real client).
 *
 * What carries over: SPA_SERVER, SPA_SERVER_PORT, SPA_SERVER_PROTO (udp only), ACCESS, ALLOW_IP
 * (an address, `source`, or `resolve` with RESOLVE_URL), KEY / KEY_BASE64, HMAC_KEY /
 * HMAC_KEY_BASE64, HMAC_DIGEST_TYPE, ENCRYPTION_MODE, FW_TIMEOUT, SPOOF_USER, and GnuPG sending
 * (USE_GPG Y with GPG_RECIPIENT, GPG_SIGNER, GPG_HOMEDIR, GPG_EXE, GPG_SIGNING_PW[_BASE64]).
 * Refused by name, because sending without them would send something else than fwknop would:
 * NAT access (NAT_*), spoofed sources, other protocols, random ports, key files, time offsets,
 * inner digests other than SHA-256. Ignored with a warning: fwknop's own display and
 * HTTP-client settings. Pure: `parseFwknoprc` takes the text; errors are ConfigErrors with the line.
 */

import { ConfigError } from '../core/errors.js';
import { parseEndpoint, type Endpoint } from '../core/endpoint.js';
import { MAX_FWKNOPRC_STANZAS, MAX_SPA_PORTS } from '../core/limits.js';

export interface RcValue {
  readonly value: string;
  readonly line: number;
}

/** The stanzas of an rc file, in file order, each a map of its variables (the last line wins). */
export type Fwknoprc = ReadonlyMap<string, ReadonlyMap<string, RcValue>>;

export function parseFwknoprc(file: string, text: string): Fwknoprc {
  const stanzas = new Map<string, Map<string, RcValue>>();
  let current: Map<string, RcValue> | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const header = /^\[([^\]]{1,128})\]$/.exec(line);
    if (header) {
      const name = (header[1] as string).trim();
      current = stanzas.get(name) ?? new Map();
      if (!stanzas.has(name) && stanzas.size >= MAX_FWKNOPRC_STANZAS)
        throw new ConfigError(file, i + 1, undefined, `more than ${MAX_FWKNOPRC_STANZAS} stanzas`);
      stanzas.set(name, current);
      return;
    }
    const m = /^([A-Z][A-Z0-9_]*)\s+(.*)$/.exec(line);
    if (!m)
      throw new ConfigError(
        file,
        i + 1,
        undefined,
        `not a [STANZA] line nor "VARIABLE value": ${JSON.stringify(line.slice(0, 60))}`,
      );
    if (current === null)
      throw new ConfigError(
        file,
        i + 1,
        m[1],
        'a variable before any [stanza] line (fwknop ignores it; put it under [default])',
      );
    (current as Map<string, RcValue>).set(m[1] as string, { value: (m[2] as string).trim(), line: i + 1 });
  });
  return stanzas;
}

/** What one stanza (with [default] under it) asks fwknop to send. */
export interface FwknoprcSettings {
  readonly stanza: string;
  readonly server: string | null;
  readonly port: number | null;
  readonly ports: readonly Endpoint[] | null;
  /** ALLOW_IP: an address; 'source' (0.0.0.0: the packet's source, fwknop -s); 'resolve' (fwknop -R). */
  readonly allow: string | null;
  readonly resolveUrl: string | null;
  /** KEY / KEY_BASE64; null for a GnuPG stanza, which needs none. */
  readonly key: { readonly text: string; readonly base64: boolean } | null;
  /** USE_GPG Y: the gpg_* fields of the knockgate fwknop credential (client/fwknop-sender.ts). */
  readonly gpg: Readonly<Record<string, string>> | null;
  readonly hmacKey: { readonly text: string; readonly base64: boolean } | null;
  readonly hmacType: string | null;
  readonly encryptionMode: string | null;
  readonly durationS: number | null;
  readonly user: string | null;
  readonly warnings: readonly string[];
}

const REFUSED: Readonly<Record<string, string>> = {
  NAT_ACCESS: 'NAT access messages are not sent by knockgate (the server forwards with FORCE_NAT instead)',
  NAT_LOCAL: 'NAT access messages are not sent by knockgate',
  NAT_PORT: 'NAT access messages are not sent by knockgate',
  NAT_RAND_PORT: 'NAT access messages are not sent by knockgate',
  SPOOF_SOURCE_IP: 'spoofed sources are not sent (they need raw sockets)',
  RAND_PORT: 'random destination ports are not sent: give SPA_SERVER_PORT',
  SPA_SOURCE_PORT: 'a fixed source port is not supported',
  KEY_FILE: 'keys from a separate file are not read: put KEY_BASE64 in the stanza',
  HMAC_KEY_FILE: 'keys from a separate file are not read: put HMAC_KEY_BASE64 in the stanza',
  TIME_OFFSET: 'time offsets are not applied',
  SERVER_RESOLVE_IPV4: 'not supported',
};
const IGNORED = new Set([
  'VERBOSE',
  'NO_SAVE_ARGS',
  'USE_WGET_USER_AGENT',
  'HTTP_USER_AGENT',
  'WGET_CMD',
  'RESOLVE_HTTP_ONLY',
  'USE_GPG_AGENT', // gpg uses its agent anyway
  'GPG_NO_SIGNING_PW', // no GPG_SIGNING_PW is what it means
]);
const KNOWN = new Set([
  'SPA_SERVER',
  'SPA_SERVER_PORT',
  'SPA_SERVER_PROTO',
  'ACCESS',
  'ALLOW_IP',
  'RESOLVE_URL',
  'RESOLVE_IP_HTTP',
  'RESOLVE_IP_HTTPS',
  'KEY',
  'KEY_BASE64',
  'HMAC_KEY',
  'HMAC_KEY_BASE64',
  'HMAC_DIGEST_TYPE',
  'DIGEST_TYPE',
  'USE_HMAC',
  'ENCRYPTION_MODE',
  'FW_TIMEOUT',
  'SPOOF_USER',
  'USE_GPG',
  'GPG_RECIPIENT',
  'GPG_SIGNER',
  'GPG_HOMEDIR',
  'GPG_EXE',
  'GPG_SIGNING_PW',
  'GPG_SIGNING_PW_BASE64',
]);

/** [default] with `name`'s lines over it; `name` null: [default] alone. Throws ConfigError naming file and line. */
export function fwknoprcSettings(file: string, rc: Fwknoprc, name: string | null): FwknoprcSettings {
  if (name !== null && !rc.has(name))
    throw new ConfigError(
      file,
      undefined,
      undefined,
      `no stanza [${name}] (stanzas: ${[...rc.keys()].join(', ') || 'none'})`,
    );
  const vars = new Map<string, RcValue>([...(rc.get('default') ?? []), ...(name !== null ? (rc.get(name) ?? []) : [])]);
  const warnings: string[] = [];
  const fail = (v: string, detail: string): never => {
    throw new ConfigError(file, vars.get(v)?.line, v, detail);
  };
  for (const [v, { line }] of vars) {
    const refused = REFUSED[v];
    if (refused !== undefined) fail(v, refused);
    else if (IGNORED.has(v)) warnings.push(`${file}:${line}: ${v} is fwknop's own setting; ignored`);
    else if (!KNOWN.has(v)) warnings.push(`${file}:${line}: unknown variable ${v}; ignored (as fwknop ignores it)`);
  }
  const text = (v: string): string | null => vars.get(v)?.value ?? null;
  const proto = text('SPA_SERVER_PROTO');
  if (proto !== null && proto.toLowerCase() !== 'udp')
    fail('SPA_SERVER_PROTO', `${proto}: knockgate sends SPA over UDP only`);
  const digest = text('DIGEST_TYPE');
  if (digest !== null && digest.toLowerCase() !== 'sha256')
    fail('DIGEST_TYPE', `${digest}: knockgate's sender uses SHA256 only (fwknopd accepts it)`);
  const portText = text('SPA_SERVER_PORT');
  const port = portText === null ? null : Number(portText);
  if (port !== null && (!/^\d{1,5}$/.test(portText as string) || port < 1 || port > 65_535))
    fail('SPA_SERVER_PORT', `not a port: ${JSON.stringify(portText)}`);
  const ports = accessPorts(text('ACCESS'), (d) => fail('ACCESS', d));
  const key =
    text('KEY_BASE64') !== null
      ? { text: text('KEY_BASE64') as string, base64: true }
      : text('KEY') !== null
        ? { text: text('KEY') as string, base64: false }
        : null;
  const gpg = /^(y|yes|1)$/i.test(text('USE_GPG') ?? '') ? gpgFields(text, fail) : null;
  if (key === null && gpg === null) fail('KEY', `stanza ${name ?? 'default'} has no KEY or KEY_BASE64 (nor USE_GPG Y)`);
  const hmacKey =
    text('HMAC_KEY_BASE64') !== null
      ? { text: text('HMAC_KEY_BASE64') as string, base64: true }
      : text('HMAC_KEY') !== null
        ? { text: text('HMAC_KEY') as string, base64: false }
        : null;
  if (hmacKey === null && /^(y|yes|1)$/i.test(text('USE_HMAC') ?? ''))
    fail('USE_HMAC', 'USE_HMAC Y but no HMAC_KEY or HMAC_KEY_BASE64 (fwknop would ask for one)');
  const timeout = text('FW_TIMEOUT');
  if (timeout !== null && !/^\d{1,7}$/.test(timeout))
    fail('FW_TIMEOUT', `not a number of seconds: ${JSON.stringify(timeout)}`);
  const allow = text('ALLOW_IP');
  const resolveUrl = text('RESOLVE_URL') ?? text('RESOLVE_IP_HTTPS') ?? text('RESOLVE_IP_HTTP');
  if (allow?.toLowerCase() === 'resolve' && resolveUrl === null)
    fail('ALLOW_IP', 'ALLOW_IP resolve needs RESOLVE_URL: knockgate asks no resolver the user did not choose');
  return {
    stanza: name ?? 'default',
    server: text('SPA_SERVER'),
    port,
    ports,
    allow: allow === null ? null : /^(source|resolve)$/i.test(allow) ? allow.toLowerCase() : allow,
    resolveUrl,
    key,
    gpg,
    hmacKey,
    hmacType: text('HMAC_DIGEST_TYPE'),
    encryptionMode: text('ENCRYPTION_MODE'),
    durationS: timeout === null || Number(timeout) === 0 ? null : Number(timeout),
    user: text('SPOOF_USER'),
    warnings,
  };
}

/** USE_GPG Y: the recipient (required), the signer and the rest, as the credential's gpg_* fields. */
function gpgFields(text: (v: string) => string | null, fail: (v: string, d: string) => never): Record<string, string> {
  const recipient = text('GPG_RECIPIENT');
  if (recipient === null) return fail('USE_GPG', "USE_GPG Y needs GPG_RECIPIENT (the server's key)");
  const pw64 = text('GPG_SIGNING_PW_BASE64');
  const pw = text('GPG_SIGNING_PW') ?? (pw64 === null ? null : Buffer.from(pw64, 'base64').toString('utf8'));
  const out: Record<string, string> = { gpg_recipient: recipient };
  for (const [v, k] of [
    ['GPG_SIGNER', 'gpg_signer'],
    ['GPG_HOMEDIR', 'gpg_home_dir'],
    ['GPG_EXE', 'gpg_exe'],
  ] as const) {
    const t = text(v);
    if (t !== null) out[k] = t;
  }
  if (pw !== null) out.gpg_signing_pw = pw;
  return out;
}

/** ACCESS: `tcp/22` or `tcp/22,udp/53` (fwknop's PROTO/PORT order). */
function accessPorts(value: string | null, fail: (detail: string) => never): Endpoint[] | null {
  if (value === null) return null;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0 || items.length > MAX_SPA_PORTS) fail(`expected 1 to ${MAX_SPA_PORTS} ports like tcp/22`);
  return items.map((item) => {
    const m = /^(tcp|udp)\/(\d{1,5})$/i.exec(item);
    const e = m ? parseEndpoint(`${m[2]}/${(m[1] as string).toLowerCase()}`) : { error: 'expected PROTO/PORT' };
    if ('error' in e) return fail(`${JSON.stringify(item)}: ${e.error}`);
    return e;
  });
}
