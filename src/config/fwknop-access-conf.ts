/**
 * fwknop access.conf importer: reads fwknopd's access.conf (and the files its %include and
 * %include_folder directives name) and turns its stanzas into knockgate YAML.
 *
 * Contract. `importAccessConf(file, { port, interfaces })` reads only those files; everything else
 * is pure, except that ACCESS_EXPIRE dates are converted in this process's time zone (as fwknopd's
 * mktime() does on its host; a warning says so). It returns
 *   - `stanzasYaml`: the YAML list for a fwknop door's `stanzas:` (indent 0, the caller indents),
 *     one entry per SOURCE in fwknopd's order, each preceded by a `# FILE:LINE` comment;
 *   - `stanzaOrigins`: for each entry of that list, in order, where its SOURCE and each of its other
 *     fields were set in the access.conf files (so that a door compiling the list can point an error
 *     at the variable, not at its own `access_conf` key);
 *   - `yaml`: a complete knockgate configuration with one fwknop door using them;
 *   - `warnings`: one entry per thing that does not carry over exactly (file, 1-based line; line 0:
 *     the file as a whole).
 * Every string in the YAML is a JSON-quoted scalar that YAML reads back verbatim. It throws a
 * ConfigError (file, line, variable) for anything fwknopd rejects, and for what knockgate cannot
 * honour without granting more than fwknopd would (NAT, %include_keys, GnuPG-only
 * stanzas, cipher modes other than CBC and legacy). Every other variable it does not support is a
 * warning that says what happens instead; nothing is dropped silently.
 *
 * It follows fwknop 2.6.11 (server/access.c and the helpers it calls). The steps, one file each
 * under access-conf/: the files and their includes (includes.ts), each line cut as fwknopd's
 * sscanf does (lexer.ts, with the C readings of c-readings.ts), each variable's effect on its
 * stanza (stanza-variables.ts, number-values.ts), each stanza finished with fwknopd's defaults and
 * checks (stanza.ts, stanza-lists.ts); this file writes the YAML.
 */

import { ConfigError } from '../core/errors.js';
import { endpointKey, formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { MAX_OPEN_PORTS_PER_DOOR, MAX_SPA_CLIENTS_PER_DOOR } from '../core/limits.js';
import { DEF_FW_ACCESS_TIMEOUT_S, DEF_INTERFACE, DEF_SPA_PORT, MAX_PORT } from './access-conf/fwknopd-constants.js';
import { readAccessFiles } from './access-conf/includes.js';
import { AccessConfReport, type AccessConfWarning } from './access-conf/report.js';
import { finishStanza, type Stanza, type VariableLoc } from './access-conf/stanza.js';
import { applyStanzaVariable, type StanzaDraft } from './access-conf/stanza-variables.js';
import { commentText, yamlString as q } from './yaml-scalar.js';

export type { VariableLoc };

/** Where one imported stanza came from: its SOURCE line, and where each YAML field was set. */
export interface StanzaOrigin {
  readonly file: string;
  readonly line: number;
  readonly variables: Stanza['variables'];
}

export interface AccessConfImport {
  /** YAML for the `stanzas:` list of a knockgate fwknop door, indented by 0 (the caller indents). */
  readonly stanzasYaml: string;
  /** Where each entry of `stanzasYaml` came from, in the same order. */
  readonly stanzaOrigins: readonly StanzaOrigin[];
  /** A complete knockgate config using them, for `knockgate import`. */
  readonly yaml: string;
  /** The door's `open` list in `yaml`: empty when no stanza had OPEN_PORTS and none was given. */
  readonly open: readonly Endpoint[];
  readonly warnings: readonly AccessConfWarning[];
}

/** One stanza as an entry of a fwknop door's `stanzas:` list, after a `# FILE:LINE` comment. */
function stanzaYaml(s: Stanza): string {
  const list = (xs: readonly string[]): string => `[${xs.map(q).join(', ')}]`;
  const out = [`# ${commentText(`${s.loc.file}:${s.loc.line}`)}`, `- source: ${list(s.source)}`];
  const field = (k: string, v: string): void => {
    out.push(`  ${k}: ${v}`);
  };
  field('destination', list(s.destination));
  if (s.openPorts) field('open_ports', list(s.openPorts.map(formatEndpoint)));
  if (s.restrictPorts) field('restrict_ports', list(s.restrictPorts.map(formatEndpoint)));
  if (s.key) field(s.key.field, q(s.key.text));
  if (s.hmacKey) field(s.hmacKey.field, q(s.hmacKey.text));
  field('hmac_digest_type', q(s.hmacType));
  field('encryption_mode', q(s.mode));
  field('fw_access_timeout', q(`${s.fwTimeoutS}s`));
  field('max_fw_timeout', q(`${s.maxTimeoutS}s`));
  if (s.username !== null) field('require_username', q(s.username));
  field('require_source_address', s.requireSource ? 'true' : 'false');
  if (s.expire !== null) field('access_expire_epoch', String(s.expire));
  if (s.forceNat !== null) {
    const n = s.forceNat;
    const snat = n.snat !== null ? `, snat: ${q(n.snat)}` : '';
    field('force_nat', `{ to: ${q(n.to)}, port: ${n.port}, masquerade: ${n.masquerade}${snat} }`);
  }
  if (s.gpg !== null) {
    const g = s.gpg;
    out.push('  gpg:');
    const sub = (k: string, v: string): void => {
      out.push(`    ${k}: ${v}`);
    };
    sub('home_dir', q(g.home_dir));
    sub('exe', q(g.exe));
    sub('decrypt_id', q(g.decrypt_id));
    if (g.decrypt_pw !== undefined) sub('decrypt_pw', q(g.decrypt_pw));
    sub('allow_no_pw', String(g.allow_no_pw));
    sub('require_sig', String(g.require_sig));
    sub('ignore_sig_verify_error', String(g.ignore_sig_verify_error));
    sub('remote_ids', list(g.remote_ids));
    sub('fingerprint_ids', list(g.fingerprint_ids));
  }
  if (s.cmdExec !== null) {
    const group = s.cmdExec.group !== null ? `, group: ${q(s.cmdExec.group)}` : '';
    field('cmd_exec', `{ user: ${q(s.cmdExec.user)}${group} }`);
  }
  if (s.cmdCycle !== null) {
    const c = s.cmdCycle;
    const timer = c.timerS !== null ? `, timer: ${q(`${c.timerS}s`)}` : '';
    field('cmd_cycle', `{ open: ${q(c.open)}, close: ${q(c.close)}${timer} }`);
  }
  return `${out.join('\n')}\n`;
}

const indent = (text: string, by: string): string =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');

/**
 * `open`: the door's ports (knockgate import --open). Needed when no stanza has OPEN_PORTS (then
 * fwknopd opens whatever a client asks for, and knockgate cannot guess what that should be);
 * given otherwise, it replaces the list the stanzas' OPEN_PORTS make, and a stanza asking for more
 * is the loader's error, naming the stanza's line.
 */
export function importAccessConf(
  file: string,
  options?: { port?: number; interfaces?: string[]; open?: readonly Endpoint[] },
): AccessConfImport {
  const port = options?.port ?? DEF_SPA_PORT;
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT)
    throw new ConfigError(file, undefined, 'port', `the SPA port must be 1 to ${MAX_PORT}, got ${String(port)}`);
  const interfaces = options?.interfaces ?? [DEF_INTERFACE];
  if (interfaces.length === 0 || interfaces.some((i) => typeof i !== 'string' || i === '')) {
    throw new ConfigError(file, undefined, 'interfaces', 'name at least one interface');
  }

  const report = new AccessConfReport();
  const drafts: StanzaDraft[] = [];
  readAccessFiles<StanzaDraft>(file, report, (line, current) =>
    applyStanzaVariable(report, drafts, MAX_SPA_CLIENTS_PER_DOOR, line, current),
  );
  if (drafts.length === 0)
    throw new ConfigError(
      file,
      undefined,
      'SOURCE',
      'could not find a valid SOURCE stanza in the access file (fwknopd refuses to start)',
    );
  const stanzas = drafts.map((d) => finishStanza(report, d));

  const fromStanzas: Endpoint[] = [];
  const seen = new Set<number>();
  for (const s of stanzas) {
    for (const e of s.openPorts ?? []) {
      const k = endpointKey(e.proto, e.port);
      if (!seen.has(k)) {
        seen.add(k);
        fromStanzas.push(e);
      }
    }
  }
  const given = options?.open ?? null;
  const open = given !== null ? [...given] : fromStanzas;
  if (given !== null) {
    const allowed = new Set(given.map((e) => endpointKey(e.proto, e.port)));
    for (const s of stanzas) {
      const out = (s.openPorts ?? []).find((e) => !allowed.has(endpointKey(e.proto, e.port)));
      const at = s.variables.open_ports;
      if (out !== undefined && at !== undefined)
        report.fail(
          at,
          at.key,
          `${formatEndpoint(out)} is not among the ports --open gave (${given.map(formatEndpoint).join(', ')})`,
        );
    }
  }
  // fwknopd opens no firewall rule for a stanza with a command cycle: its commands give access.
  const cycles = stanzas.filter((s) => s.cmdCycle !== null).length;
  const allCycles = cycles > 0 && cycles === stanzas.length;
  if (given !== null && fromStanzas.length === 0) {
    report.warn(
      { file, line: 0 },
      `no stanza has OPEN_PORTS (fwknopd would open whatever a client asks for): the door opens what --open gave, ${given.map(formatEndpoint).join(', ')}, and each stanza may ask for any of it`,
    );
  } else if (open.length === 0 && !allCycles) {
    report.warn(
      { file, line: 0 },
      'no stanza has OPEN_PORTS, so the generated door\'s "open" list is empty: list the ports the door may open there (knockgate refuses a door that opens nothing)',
    );
  } else if (open.length > MAX_OPEN_PORTS_PER_DOOR) {
    report.warn(
      { file, line: 0 },
      `the stanzas' OPEN_PORTS name ${open.length} ports, more than a knockgate door may open (${MAX_OPEN_PORTS_PER_DOOR}); split them over several doors`,
    );
  }
  if (cycles > 0 && cycles < stanzas.length)
    report.warn(
      { file, line: 0 },
      "some stanzas have command cycles and some do not: as in fwknopd, the stanzas with command cycles open no firewall rule (their commands must give access) while the others open the door's firewall",
    );
  const maxDurationS = Math.max(DEF_FW_ACCESS_TIMEOUT_S, ...stanzas.map((s) => s.maxTimeoutS));

  const stanzasYaml = stanzas.map(stanzaYaml).join('');
  const yaml = [
    `# imported from ${commentText(file)} by knockgate import`,
    `interfaces: [${interfaces.map(q).join(', ')}]`,
    ...(allCycles
      ? [`firewall: ${q('none')}   # command cycles: the stanzas' commands give access, as in fwknopd`]
      : []),
    '# spa:',
    '#   server_key: "/etc/knockgate/server.key"   # only needed by native SPA doors',
    'doors:',
    `  - name: ${q('fwknop')}`,
    '    fwknop:',
    `      port: ${port}`,
    `      capture: ${q('pcap')}            # fwknopd's default; "socket" also works`,
    allCycles
      ? '    open: []   # firewall: none opens nothing; the command cycles do'
      : `    open: [${open.map((e) => q(formatEndpoint(e))).join(', ')}]${open.length === 0 ? '   # fwknopd opens whatever clients ask for: list the ports this door may open' : ''}`,
    `    duration: ${q(`${DEF_FW_ACCESS_TIMEOUT_S}s`)}`,
    `    max_duration: ${q(`${maxDurationS}s`)}`,
    '    stanzas:',
    indent(stanzasYaml, '      ').replace(/\n$/, ''),
    '',
  ].join('\n');
  const stanzaOrigins = stanzas.map((s) => ({ file: s.loc.file, line: s.loc.line, variables: s.variables }));
  return { stanzasYaml, stanzaOrigins, yaml, open, warnings: report.warnings };
}
