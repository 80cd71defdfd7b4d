/**
 * knockd.conf importer: turns a knockd configuration into knockgate YAML.
 *
 * Contract. `importKnockdConf(file, text)` is pure (no I/O: the caller reads the file; `file` only
 * names it in messages and in the YAML's header comment). It reads `text` exactly as knockd 0.8's
 * parseconfig() does and returns
 *   - `yaml`: a knockgate configuration (firewall: none, one door per knockd section, knockd's
 *     commands carried verbatim as start_shell/stop_shell strings with %IP%), every string quoted
 *     JSON-style so that YAML reads it back verbatim;
 *   - `warnings`: one entry per thing that does not carry over exactly, with the knockd.conf line
 *     (line 0: the file as a whole), sorted by line.
 * It throws a ConfigError (file, line, key) for input knockd itself rejects (unknown keys, lines
 * that are neither a section, `key = value` nor the bare word UseSyslog, ports above 65535, unknown
 * protocols or TCP flags, more than 32 steps, a door without a sequence), and also for the few
 * things knockd accepts but knockgate cannot express at all (a port that knockd reads as 0 or as a
 * negative number, a Target that is not an IP address, an interface name Linux cannot have, no
 * door or more doors than knockgate allows, a line knockd would split in two).
 *
 * knockd's parsing rules, as in knockd.c (parseconfig, parse_port_sequence, trim, strtoupper):
 *   - lines are read with fgets into a 4096-byte buffer, then trimmed of C whitespace (isspace);
 *     empty lines and lines whose first character is `#` are skipped: there are no end-of-line
 *     comments, a `#` after a value is part of the value;
 *   - `[name]` (first character `[`, last `]`) opens a section; the name is taken verbatim
 *     (inner spaces included) and must not be empty; only the exact, case-sensitive `options` is
 *     the global section, any other name (`Options` too) is a door;
 *   - any other line must follow a section and is split at its first `=`; the key is trimmed and
 *     upper-cased (keys are case-insensitive), the value trimmed and otherwise verbatim (it may
 *     contain `=` and be empty); a line without `=` must be the bare word UseSyslog (in any
 *     section), anything else is a syntax error, and `UseSyslog = ...` is one too;
 *   - [options] knows LogFile, PidFile and Interface (the first non-empty Interface wins, later ones
 *     are ignored; default eth0); doors know Sequence, One_Time_Sequences, Seq_Timeout (alias
 *     Timeout, default 25), TCPFlags, Target, Start_Command (alias Command), Start_Command_6 (alias
 *     Command_6), Cmd_Timeout (default 10), Stop_Command, Stop_Command_6; every other key is a
 *     syntax error, as is a door key in [options] or the reverse; a repeated key: the last wins,
 *     except TCPFlags, whose lines accumulate;
 *   - Sequence is `port[:tcp|udp],...`, split at every `,` (an empty item is port 0); ports are read
 *     with atoi (leading digits, the rest ignored), above 65535 is an error; the protocol is trimmed
 *     and case-insensitive, TCP by default, anything else an error; at most 32 ports;
 *   - TCPFlags is a `,`-separated list of fin/syn/rst/psh/ack/urg, each optionally prefixed by `!`,
 *     case-insensitive, with no spaces and no `|` (the man page's `fin|syn|...` lists the choices);
 *     without TCPFlags every TCP packet counts;
 *   - Seq_Timeout and Cmd_Timeout are read with atoi (seconds);
 *   - the *_6 commands, when absent, fall back to the IPv4 ones; an empty command runs nothing, and
 *     knockd runs a stop command only after a non-empty start command (process_attempt);
 *   - after the last line, a door whose sequence is empty is an error.
 */

import { ConfigError } from '../core/errors.js';
import { formatEndpoint, type Endpoint, type Protocol } from '../core/endpoint.js';
import { formatIPAddress, parseIPAddress } from '../core/ip-address.js';
import { MAX_DOORS, MAX_GRANT_DURATION_S, MAX_SEQUENCE_TIMEOUT_MS, MIN_GRANT_DURATION_S } from '../core/limits.js';
import { DOOR_NAME } from './schema.js';

export interface KnockdImport {
  /** knockgate YAML (our own schema), ready to write to a file or to parse with parseConfigText. */
  readonly yaml: string;
  /** One line per thing that does not carry over exactly, with the knockd.conf line number. */
  readonly warnings: readonly { line: number; message: string }[];
}

/** knockd's compiled-in defaults and limits (knockd.c: SEQ_TIMEOUT, CMD_TIMEOUT, SEQ_MAX, o_int). */
const KNOCKD_SEQ_TIMEOUT_S = 25;
const KNOCKD_CMD_TIMEOUT_S = 10;
const KNOCKD_SEQ_MAX = 32;
const KNOCKD_INTERFACE = 'eth0';
/** fgets(line, PATH_MAX, fp): a line longer than PATH_MAX - 1 bytes is read as two lines. */
const KNOCKD_LINE_BYTES = 4095;
/** The shortest sequence timeout that means anything to knockd, which counts whole seconds. */
const MIN_IMPORTED_SEQ_TIMEOUT_S = 1;
/** Linux interface names (IFNAMSIZ - 1), as schema.ts accepts them. */
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'] as const;
type TcpFlag = (typeof TCP_FLAGS)[number];

const OPTION_KEYS = new Set(['LOGFILE', 'PIDFILE', 'INTERFACE']);
const DOOR_KEYS = new Set([
  'TARGET',
  'SEQUENCE',
  'ONE_TIME_SEQUENCES',
  'SEQ_TIMEOUT',
  'TIMEOUT',
  'START_COMMAND',
  'COMMAND',
  'START_COMMAND_6',
  'COMMAND_6',
  'CMD_TIMEOUT',
  'STOP_COMMAND',
  'STOP_COMMAND_6',
  'TCPFLAGS',
]);

interface Setting<T> {
  readonly value: T;
  readonly line: number;
  /** The key as written, for messages. */
  readonly key: string;
}

interface DraftDoor {
  readonly section: string;
  readonly line: number;
  sequence?: Setting<readonly Endpoint[]>;
  oneTime?: Setting<string>;
  seqTimeout?: Setting<string>;
  cmdTimeout?: Setting<string>;
  start?: Setting<string>;
  start6?: Setting<string>;
  stop?: Setting<string>;
  stop6?: Setting<string>;
  target?: Setting<string>;
  /** Flag → must be set (true) or clear (false), in the order first named. */
  readonly flags: Map<TcpFlag, boolean>;
}

type Warn = (line: number, message: string) => void;

/** C's isspace() in the C locale. */
const C_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
const cTrim = (s: string): string => s.replace(C_SPACE, '');
/** C's toupper() in the C locale: ASCII letters only. */
const asciiUpper = (s: string): string => s.replace(/[a-z]+/g, (m) => m.toUpperCase());
const q = JSON.stringify;

/** atoi(): optional leading whitespace and sign, then digits; 0 when there are none. */
function cAtoi(text: string): { value: number; exact: boolean } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(text) as RegExpExecArray;
  const digits = m[2] as string;
  const magnitude = digits === '' ? 0 : Number(digits);
  return { value: m[1] === '-' ? -magnitude : magnitude, exact: /^[+-]?\d+$/.test(cTrim(text)) };
}

/**
 * A string as a YAML double-quoted scalar that reads back verbatim: JSON's quoting, plus escapes for
 * the characters YAML does not allow raw or might read as line breaks.
 */
function yamlString(s: string): string {
  return q(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line of text for a YAML comment. */
const commentText = (s: string): string => s.replace(/[\r\n\u0085\u2028\u2029]/g, ' ');

export function importKnockdConf(file: string, text: string): KnockdImport {
  const warnings: { line: number; message: string }[] = [];
  const warn: Warn = (line, message) => warnings.push({ line, message });
  const fail = (line: number | undefined, key: string | undefined, detail: string): never => {
    throw new ConfigError(file, line, key, detail);
  };

  let section: string | null = null;
  let door: DraftDoor | null = null;
  const doors: DraftDoor[] = [];
  let logFile: Setting<string> | undefined;
  let pidFile: Setting<string> | undefined;
  let iface: Setting<string> | undefined;
  let syslog: number | undefined;

  const lines = text.split('\n');
  // A final newline ends the last line; it does not start another one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const utf8 = new TextEncoder();

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    if (utf8.encode(raw).length > KNOCKD_LINE_BYTES) {
      fail(lineNo, undefined, `longer than ${KNOCKD_LINE_BYTES} bytes: knockd would read it as two lines`);
    }
    const line = cTrim(raw);
    if (line === '' || line.startsWith('#')) return;

    if (line.startsWith('[') && line.endsWith(']') && line.length >= 2) {
      const name = line.slice(1, -1);
      if (name === '') fail(lineNo, line, 'bad section name: knockd needs a name between the brackets');
      section = name;
      if (name !== 'options') {
        if (doors.length >= MAX_DOORS) fail(lineNo, line, `knockgate supports at most ${MAX_DOORS} doors`);
        door = { section: name, line: lineNo, flags: new Map() };
        doors.push(door);
      }
      return;
    }

    if (section === null) {
      const bom = line.startsWith('\ufeff') ? ' (this line starts with a byte-order mark, which knockd does not skip)' : '';
      fail(lineNo, undefined, `all directives must belong to a section such as [options] or [openSSH]${bom}`);
    }
    const eq = line.indexOf('=');
    const keyText = cTrim(eq < 0 ? line : line.slice(0, eq));
    const key = asciiUpper(keyText);
    if (eq < 0) {
      if (key === 'USESYSLOG') {
        syslog ??= lineNo;
        return;
      }
      fail(lineNo, keyText || undefined, 'syntax error: expected [section], key = value, or the bare word UseSyslog');
    }
    const value = cTrim(line.slice(eq + 1));
    const setting = <T>(v: T): Setting<T> => ({ value: v, line: lineNo, key: keyText });

    if (section === 'options') {
      switch (key) {
        case 'LOGFILE':
          logFile = setting(value);
          return;
        case 'PIDFILE':
          pidFile = setting(value);
          return;
        case 'INTERFACE':
          // knockd copies it only while no interface is set, so the first non-empty one wins.
          if (iface === undefined && value !== '') iface = setting(value);
          return;
      }
      fail(lineNo, keyText || undefined, unknownKeyDetail(key, section));
    }

    const d = door as DraftDoor;
    switch (key) {
      case 'TARGET':
        d.target = setting(value);
        return;
      case 'SEQUENCE':
        d.sequence = setting(parseSequence(value, lineNo, keyText, fail, warn));
        return;
      case 'ONE_TIME_SEQUENCES':
        if (value === '') fail(lineNo, keyText, 'needs the path of a one-time sequence file');
        d.oneTime = setting(value);
        return;
      case 'SEQ_TIMEOUT':
      case 'TIMEOUT':
        d.seqTimeout = setting(value);
        return;
      case 'START_COMMAND':
      case 'COMMAND':
        d.start = setting(value);
        return;
      case 'START_COMMAND_6':
      case 'COMMAND_6':
        d.start6 = setting(value);
        return;
      case 'CMD_TIMEOUT':
        d.cmdTimeout = setting(value);
        return;
      case 'STOP_COMMAND':
        d.stop = setting(value);
        return;
      case 'STOP_COMMAND_6':
        d.stop6 = setting(value);
        return;
      case 'TCPFLAGS':
        parseTcpFlagsInto(d.flags, value, lineNo, keyText, fail);
        return;
    }
    fail(lineNo, keyText || undefined, unknownKeyDetail(key, section as string));
  });

  // knockd's sanity check after the last line: every door needs a sequence.
  for (const d of doors) {
    if (d.sequence === undefined && d.oneTime === undefined) {
      fail(d.line, `[${d.section}]`, 'the section has an empty knock sequence: give Sequence or One_Time_Sequences');
    }
  }
  if (doors.length === 0) fail(undefined, undefined, 'no door sections: knockd would listen and do nothing, and knockgate needs at least one door');

  // ----- top level -----
  let interfaceName = KNOCKD_INTERFACE;
  if (iface === undefined) {
    warn(0, `no Interface: using knockd's default ${KNOCKD_INTERFACE}; if knockd ran with -i (Debian: KNOCKD_OPTS in /etc/default/knockd), change "interfaces"`);
  } else {
    if (!INTERFACE_NAME.test(iface.value)) fail(iface.line, iface.key, `${q(iface.value)} is not a Linux interface name`);
    interfaceName = iface.value;
  }
  if (logFile !== undefined && logFile.value !== '') {
    warn(logFile.line, 'knockgate writes its own JSON log lines to the log file, not knockd\'s "[date] ip: door: Stage 1" lines; adjust anything that parses it');
    checkPath(logFile, warn);
  }
  if (pidFile !== undefined && pidFile.value !== '') checkPath(pidFile, warn);
  if (syslog !== undefined) warn(syslog, "knockgate sends its own log lines to syslog (through logger(1)), worded differently from knockd's");

  const body: string[] = [`interfaces: [${yamlString(interfaceName)}]`, 'firewall: none'];
  if (logFile !== undefined && logFile.value !== '') body.push(`log_file: ${yamlString(logFile.value)}`);
  if (syslog !== undefined) body.push('syslog: true');
  if (pidFile !== undefined && pidFile.value !== '') body.push(`pid_file: ${yamlString(pidFile.value)}`);
  body.push('doors:');
  const names = doorNames(doors, warn);
  doors.forEach((d, i) => body.push(...emitDoor(d, names[i] as string, warn, fail)));

  const all = warnings.slice().sort((a, b) => a.line - b.line);
  const header = [
    `# knockgate configuration imported from the knockd configuration ${commentText(yamlString(file))}.`,
    "# knockd's commands do the firewall work (start_shell/stop_shell), so knockgate's own firewall is off.",
  ];
  if (all.length > 0) {
    header.push('# Review (knockd.conf line: what does not carry over exactly; 0 = the whole file):');
    for (const w of all) header.push(`#   ${w.line}: ${commentText(w.message)}`);
  }
  const out = [...header, ...body];
  return Object.freeze({ yaml: out.join('\n') + '\n', warnings: Object.freeze(all.map((w) => Object.freeze(w))) });
}

function unknownKeyDetail(key: string, section: string): string {
  if (section === 'options') {
    if (DOOR_KEYS.has(key)) return 'syntax error: this is a door key, and knockd rejects it in [options]';
    if (key === 'USESYSLOG') return 'syntax error: knockd takes UseSyslog as a bare word, without "="';
    return 'syntax error: unknown key; [options] knows LogFile, PidFile, Interface and UseSyslog';
  }
  if (OPTION_KEYS.has(key)) {
    const hint = section.toLowerCase() === 'options' ? `; knockd's section names are case-sensitive, so [${section}] is a door: write [options]` : '';
    return `syntax error: this key belongs in [options], and knockd rejects it in a door section${hint}`;
  }
  if (key === 'USESYSLOG') return 'syntax error: knockd takes UseSyslog as a bare word, without "="';
  return 'syntax error: unknown key; knockd rejects it (door keys: Sequence, One_Time_Sequences, Seq_Timeout, TCPFlags, Target, Start_Command, Start_Command_6, Cmd_Timeout, Stop_Command, Stop_Command_6)';
}

/** parse_port_sequence: `port[:tcp|udp]` items separated by `,`. */
function parseSequence(value: string, line: number, key: string, fail: (l: number, k: string, d: string) => never, warn: Warn): Endpoint[] {
  const items = value.split(',');
  if (items.length > KNOCKD_SEQ_MAX) fail(line, key, `too many ports: knockd allows at most ${KNOCKD_SEQ_MAX}, got ${items.length}`);
  return items.map((item) => {
    const parts = item.split(':');
    const portText = parts[0] as string;
    const port = cAtoi(portText);
    if (port.value > 65_535) fail(line, key, `port ${q(cTrim(portText))} is invalid: above 65535`);
    if (port.value < 1) {
      const read = port.value === 0 ? 'port 0' : `port ${port.value & 0xffff}`;
      fail(line, key, `${q(cTrim(item))} is not a port from 1 to 65535 (knockd would read it as ${read}); knockgate cannot express that`);
    }
    if (!port.exact) warn(line, `${key}: knockd reads ${q(cTrim(portText))} as port ${port.value} and ignores the rest; imported as ${port.value}`);
    let proto: Protocol = 'tcp';
    if (parts.length > 1) {
      const protoText = asciiUpper(cTrim(parts[1] as string));
      if (protoText === 'UDP') proto = 'udp';
      else if (protoText !== 'TCP') fail(line, key, `unknown protocol ${q(parts[1])} in ${q(cTrim(item))}: use tcp or udp`);
      if (parts.length > 2) warn(line, `${key}: knockd ignores ${q(':' + parts.slice(2).join(':'))} after the protocol in ${q(cTrim(item))}`);
    }
    return { port: port.value, proto };
  });
}

/** TCPFlags: exact tokens split at `,`; lines accumulate, and the last word on a flag wins. */
function parseTcpFlagsInto(flags: Map<TcpFlag, boolean>, value: string, line: number, key: string, fail: (l: number, k: string, d: string) => never): void {
  for (const token of value.split(',')) {
    const upper = asciiUpper(token);
    const negated = upper.startsWith('!');
    const name = (negated ? upper.slice(1) : upper) as TcpFlag;
    if (!(TCP_FLAGS as readonly string[]).includes(name)) {
      const hint = /[|\s]/.test(token) || token === '' ? '; knockd wants comma-separated flags with no spaces, e.g. syn,!ack' : '';
      fail(line, key, `unrecognized flag ${q(token)}: knockd knows fin, syn, rst, psh, ack and urg, optionally prefixed by "!"${hint}`);
    }
    flags.set(name, !negated);
  }
}

function checkPath(s: Setting<string>, warn: Warn): void {
  if (!s.value.startsWith('/')) {
    warn(s.line, `${s.key}: relative path ${q(s.value)}: knockd resolved it against its working directory, knockgate resolves it against the YAML file's directory`);
  }
  if (/\s#/.test(s.value)) warn(s.line, `${s.key}: knockd has no end-of-line comments, so ${q(s.value)} is the whole path`);
}

/** One name per door: the section name when knockgate accepts it and it is free, else a safe one. */
function doorNames(doors: readonly DraftDoor[], warn: Warn): string[] {
  const used = new Set<string>();
  const keep = doors.map((d) => {
    if (!DOOR_NAME.test(d.section) || used.has(d.section)) return false;
    used.add(d.section);
    return true;
  });
  return doors.map((d, i) => {
    if (keep[i]) return d.section;
    let base = d.section.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 32).replace(/-+$/, '');
    if (base === '') base = 'door';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base.slice(0, 32 - `-${n}`.length)}-${n}`;
    used.add(name);
    const why = DOOR_NAME.test(d.section) ? 'is used by an earlier section' : 'is not a knockgate door name (1-32 letters, digits, "_", "." or "-", starting with a letter or digit)';
    warn(d.line, `section name ${q(d.section)} ${why}; the door is named ${q(name)}`);
    return name;
  });
}

/** Whole seconds from an atoi-read knockd value, clamped to what knockgate accepts. */
function seconds(s: Setting<string> | undefined, fallback: number, min: number, max: number, what: string, warn: Warn, warnRange: boolean): number {
  if (s === undefined) return fallback;
  const n = cAtoi(s.value);
  if (!n.exact) warn(s.line, `${s.key}: knockd reads ${q(s.value)} as ${n.value} (seconds)`);
  if (n.value < min || n.value > max) {
    const v = Math.min(max, Math.max(min, n.value));
    if (warnRange) warn(s.line, `${s.key}: ${n.value}s does not carry over: the import keeps ${what} within ${min}s to ${max}s; imported as ${v}s`);
    return v;
  }
  return n.value;
}

function emitDoor(d: DraftDoor, name: string, warn: Warn, fail: (l: number, k: string, d: string) => never): string[] {
  const out = [`  - name: ${yamlString(name)}`];
  if (d.oneTime !== undefined) {
    out.push(`    one_time_sequences: ${yamlString(d.oneTime.value)}`);
    checkPath(d.oneTime, warn);
    warn(d.oneTime.line, `${d.oneTime.key}: knockgate reads and marks the file as knockd does, but refuses a malformed line where knockd skips it`);
    if (d.sequence !== undefined) {
      const order = d.sequence.line < d.oneTime.line ? 'replaces it at once' : 'takes over after the first successful knock';
      warn(d.sequence.line, `${d.sequence.key}: dropped: the door also reads One_Time_Sequences, which in knockd ${order}`);
    }
  } else if (d.sequence !== undefined) {
    out.push(`    sequence: [${d.sequence.value.map((e) => yamlString(formatEndpoint(e))).join(', ')}]`);
  }
  if (d.oneTime !== undefined || (d.sequence?.value.length ?? 0) > 1) {
    warn(
      d.line,
      `door ${q(name)}: knockgate tracks knocks a little differently: a retransmitted SYN no longer resets the sequence (so slow knocks that knockd reset now succeed), a packet to another door's knock port no longer resets it, a repeated first step restarts it instead of failing it, and the timeout runs to the millisecond rather than in whole seconds`,
    );
  }

  const seqS = seconds(d.seqTimeout, KNOCKD_SEQ_TIMEOUT_S, MIN_IMPORTED_SEQ_TIMEOUT_S, MAX_SEQUENCE_TIMEOUT_MS / 1000, 'sequence_timeout', warn, true);
  out.push(`    sequence_timeout: ${yamlString(`${seqS}s`)}`);
  const flags = [...d.flags].map(([flag, set]) => `${set ? '' : '!'}${flag.toLowerCase()}`).join(',');
  out.push(`    tcp_flags: ${yamlString(flags === '' ? 'any' : flags)}`);

  if (d.target !== undefined) {
    const t = d.target;
    const parsed = parseIPAddress(t.value);
    if (parsed === null) {
      fail(t.line, t.key, `${q(t.value)} is not an IP address: knockd compares Target as text with the packet's destination address, and knockgate needs an address`);
    }
    const canonical = formatIPAddress(parsed as NonNullable<typeof parsed>);
    if (canonical !== t.value) {
      warn(t.line, `${t.key}: knockd compares the text ${q(t.value)} with the destination address as it formats it (${q(canonical)}), so it never matched; knockgate matches the address`);
    }
    out.push(`    target: ${yamlString(t.value)}`);
  }

  // Commands, as knockd runs them (process_attempt): per family, start is the family's command or the
  // IPv4 fallback, '' or absent runs nothing, and stop runs only after a non-empty start.
  const start4 = d.start?.value ?? '';
  const start6 = d.start6?.value ?? d.start?.value ?? '';
  const stop4 = start4 === '' ? '' : (d.stop?.value ?? '');
  const stop6 = start6 === '' ? '' : (d.stop6?.value ?? d.stop?.value ?? '');
  const keys: { start_shell: string; start_shell_6?: string; stop_shell?: string; stop_shell_6?: string } = { start_shell: start4 };
  if (d.start6 !== undefined) keys.start_shell_6 = d.start6.value;
  if (d.stop !== undefined) keys.stop_shell = d.stop.value;
  if (d.stop6 !== undefined) keys.stop_shell_6 = d.stop6.value;
  // knockgate runs a stop command even after an empty start: blank the stops knockd never runs.
  const stopOf = (family: 4 | 6): string => (family === 4 ? (keys.stop_shell ?? '') : (keys.stop_shell_6 ?? keys.stop_shell ?? ''));
  const fixes: string[] = [];
  if (stopOf(4) !== stop4) {
    const was6 = stopOf(6);
    keys.stop_shell = stop4;
    fixes.push('IPv4');
    if (stopOf(6) !== was6) keys.stop_shell_6 = was6;
  }
  if (stopOf(6) !== stop6) {
    keys.stop_shell_6 = stop6;
    fixes.push('IPv6');
  }
  // A blanked IPv6 stop that the fallback to the (now blank) IPv4 stop already gives is left out.
  if (d.stop6 === undefined && keys.stop_shell_6 !== undefined && keys.stop_shell_6 === (keys.stop_shell ?? '')) delete keys.stop_shell_6;
  if (fixes.length > 0) {
    const at = (d.stop ?? d.stop6 ?? d.start ?? d.start6) as Setting<string>;
    warn(at.line, `door ${q(name)}: knockd never runs the ${fixes.join(' and ')} stop command${fixes.length > 1 ? 's' : ''}, because the start command for that family is empty; imported as an empty stop command`);
  }
  if (start4 === '' && start6 === '') {
    warn(d.line, `door ${q(name)} runs no command: knockd only logs the knock, and so will knockgate`);
  }
  out.push(`    start_shell: ${yamlString(keys.start_shell)}`);
  if (keys.start_shell_6 !== undefined) out.push(`    start_shell_6: ${yamlString(keys.start_shell_6)}`);
  if (keys.stop_shell !== undefined) out.push(`    stop_shell: ${yamlString(keys.stop_shell)}`);
  if (keys.stop_shell_6 !== undefined) out.push(`    stop_shell_6: ${yamlString(keys.stop_shell_6)}`);

  const hasStop = stop4 !== '' || stop6 !== '';
  const durS = seconds(d.cmdTimeout, KNOCKD_CMD_TIMEOUT_S, MIN_GRANT_DURATION_S, MAX_GRANT_DURATION_S, 'duration', warn, hasStop);
  out.push(`    duration: ${yamlString(`${durS}s`)}`);
  return out;
}
