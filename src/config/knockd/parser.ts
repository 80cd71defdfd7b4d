/**
 * knockd.conf, read exactly as knockd 0.8's parseconfig() reads it (knockd.c: parseconfig, trim,
 * strtoupper), into its sections and their settings; translation into knockgate doors is
 * door-translation.ts's.
 *   - lines are read with fgets into a 4096-byte buffer (a longer line would be read as two: an
 *     error here), then trimmed of C whitespace (isspace); empty lines and lines whose first
 *     character is `#` are skipped: there are no end-of-line comments, a `#` after a value is part
 *     of the value;
 *   - `[name]` (first character `[`, last `]`) opens a section; the name is taken verbatim
 *     (inner spaces included) and must not be empty; only the exact, case-sensitive `options` is
 *     the global section, any other name (`Options` too) is a door;
 *   - any other line must follow a section and is split at its first `=`; the key is trimmed and
 *     upper-cased (keys are case-insensitive), the value trimmed and otherwise verbatim (it may
 *     contain `=` and be empty); a line without `=` must be the bare word UseSyslog (in any
 *     section), anything else is a syntax error, and `UseSyslog = ...` is one too;
 *   - [options] knows LogFile, PidFile and Interface (the first non-empty Interface wins, later ones
 *     are ignored); doors know Sequence, One_Time_Sequences, Seq_Timeout (alias Timeout),
 *     TCPFlags, Target, Start_Command (alias Command), Start_Command_6 (alias Command_6),
 *     Cmd_Timeout, Stop_Command, Stop_Command_6; every other key is a syntax error, as is a door
 *     key in [options] or the reverse; a repeated key: the last wins, except TCPFlags, whose lines
 *     accumulate;
 *   - after the last line, a door whose sequence is empty is an error.
 *
 * Contract: pure; every error is a ConfigError with the file, line and key as written; knockgate's
 * own limits that a parse can meet (more than MAX_DOORS doors, no door at all) are errors too.
 */

import type { Endpoint } from '../../core/endpoint.js';
import { ConfigError } from '../../core/errors.js';
import { MAX_DOORS } from '../../core/limits.js';
import { asciiUpper, cTrim } from './c-text.js';
import { parseSequence, parseTcpFlagsInto, type KnockdWarn, type TcpFlag } from './values.js';

/** fgets(line, PATH_MAX, fp): a line longer than PATH_MAX - 1 bytes is read as two lines. */
const KNOCKD_LINE_BYTES = 4095;

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

export interface KnockdSetting<T> {
  readonly value: T;
  readonly line: number;
  /** The key as written, for messages. */
  readonly key: string;
}

/** A door section as knockd read it: each key's last value (aliases folded), unparsed but for Sequence and TCPFlags. */
export interface KnockdSection {
  readonly section: string;
  readonly line: number;
  sequence?: KnockdSetting<readonly Endpoint[]>;
  oneTime?: KnockdSetting<string>;
  seqTimeout?: KnockdSetting<string>;
  cmdTimeout?: KnockdSetting<string>;
  start?: KnockdSetting<string>;
  start6?: KnockdSetting<string>;
  stop?: KnockdSetting<string>;
  stop6?: KnockdSetting<string>;
  target?: KnockdSetting<string>;
  /** Flag → must be set (true) or clear (false), in the order first named. */
  readonly flags: Map<TcpFlag, boolean>;
}

export interface KnockdConf {
  readonly logFile: KnockdSetting<string> | undefined;
  readonly pidFile: KnockdSetting<string> | undefined;
  /** The first non-empty Interface. */
  readonly iface: KnockdSetting<string> | undefined;
  /** The line of the first bare UseSyslog. */
  readonly syslog: number | undefined;
  /** At least one, each with a sequence or a one-time file. */
  readonly doors: readonly KnockdSection[];
}

/** Reads knockd.conf text; `warn` receives what knockd reads differently from how it is written. */
export function parseKnockdConf(file: string, text: string, warn: KnockdWarn): KnockdConf {
  const fail = (line: number | undefined, key: string | undefined, detail: string): never => {
    throw new ConfigError(file, line, key, detail);
  };

  let section: string | null = null;
  let door: KnockdSection | null = null;
  const doors: KnockdSection[] = [];
  let logFile: KnockdSetting<string> | undefined;
  let pidFile: KnockdSetting<string> | undefined;
  let iface: KnockdSetting<string> | undefined;
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
      const bom = line.startsWith('\ufeff')
        ? ' (this line starts with a byte-order mark, which knockd does not skip)'
        : '';
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
    const setting = <T>(v: T): KnockdSetting<T> => ({ value: v, line: lineNo, key: keyText });

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

    const d = door as KnockdSection;
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
  if (doors.length === 0)
    fail(
      undefined,
      undefined,
      'no door sections: knockd would listen and do nothing, and knockgate needs at least one door',
    );
  return { logFile, pidFile, iface, syslog, doors };
}

/** Why a key is a syntax error in `section`, with the hint that fits. */
export function unknownKeyDetail(key: string, section: string): string {
  if (section === 'options') {
    if (DOOR_KEYS.has(key)) return 'syntax error: this is a door key, and knockd rejects it in [options]';
    if (key === 'USESYSLOG') return 'syntax error: knockd takes UseSyslog as a bare word, without "="';
    return 'syntax error: unknown key; [options] knows LogFile, PidFile, Interface and UseSyslog';
  }
  if (OPTION_KEYS.has(key)) {
    const hint =
      section.toLowerCase() === 'options'
        ? `; knockd's section names are case-sensitive, so [${section}] is a door: write [options]`
        : '';
    return `syntax error: this key belongs in [options], and knockd rejects it in a door section${hint}`;
  }
  if (key === 'USESYSLOG') return 'syntax error: knockd takes UseSyslog as a bare word, without "="';
  return 'syntax error: unknown key; knockd rejects it (door keys: Sequence, One_Time_Sequences, Seq_Timeout, TCPFlags, Target, Start_Command, Start_Command_6, Cmd_Timeout, Stop_Command, Stop_Command_6)';
}
