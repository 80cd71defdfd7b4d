/**
 * knockd door sections translated into knockgate doors (YAML lines under `doors:`), with a
 * warning for everything that does not carry over exactly.
 *   - Seq_Timeout and Cmd_Timeout are read with atoi (seconds), defaults 25 and 10 (knockd.c
 *     SEQ_TIMEOUT, CMD_TIMEOUT), and kept within what knockgate accepts; Cmd_Timeout becomes the
 *     door's `duration` (when the stop command runs);
 *   - the *_6 commands, when absent, fall back to the IPv4 ones; an empty command runs nothing, and
 *     knockd runs a stop command only after a non-empty start command (process_attempt): stops it
 *     never runs are imported empty;
 *   - without TCPFlags every TCP packet counts (`tcp_flags: any`);
 *   - a section name knockgate does not accept as a door name, or that an earlier section took,
 *     gets a safe unique name.
 *
 * Contract: pure; a Target that is not an IP address is a ConfigError (knockgate needs an
 * address); every string is written with yamlString, so YAML reads it back verbatim.
 */

import { formatEndpoint } from '../../core/endpoint.js';
import { formatIPAddress, parseIPAddress } from '../../core/ip-address.js';
import { MAX_GRANT_DURATION_S, MAX_SEQUENCE_TIMEOUT_MS, MIN_GRANT_DURATION_S } from '../../core/limits.js';
import { DOOR_NAME } from '../schema.js';
import { yamlString } from '../yaml-scalar.js';
import { cAtoi } from './c-text.js';
import type { KnockdSection, KnockdSetting } from './parser.js';
import type { KnockdFail, KnockdWarn } from './values.js';

/** knockd's compiled-in defaults (knockd.c: SEQ_TIMEOUT, CMD_TIMEOUT). */
const KNOCKD_SEQ_TIMEOUT_S = 25;
const KNOCKD_CMD_TIMEOUT_S = 10;
/** The shortest sequence timeout that means anything to knockd, which counts whole seconds. */
const MIN_IMPORTED_SEQ_TIMEOUT_S = 1;

const q = JSON.stringify;

/** A path knockd resolved in its working directory, or that looks like it holds a comment. */
export function checkPath(s: KnockdSetting<string>, warn: KnockdWarn): void {
  if (!s.value.startsWith('/')) {
    warn(
      s.line,
      `${s.key}: relative path ${q(s.value)}: knockd resolved it against its working directory, knockgate resolves it against the YAML file's directory`,
    );
  }
  if (/\s#/.test(s.value))
    warn(s.line, `${s.key}: knockd has no end-of-line comments, so ${q(s.value)} is the whole path`);
}

/** One name per door: the section name when knockgate accepts it and it is free, else a safe one. */
export function doorNames(doors: readonly KnockdSection[], warn: KnockdWarn): string[] {
  const used = new Set<string>();
  const keep = doors.map((d) => {
    if (!DOOR_NAME.test(d.section) || used.has(d.section)) return false;
    used.add(d.section);
    return true;
  });
  return doors.map((d, i) => {
    if (keep[i]) return d.section;
    let base = d.section
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 32)
      .replace(/-+$/, '');
    if (base === '') base = 'door';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base.slice(0, 32 - `-${n}`.length)}-${n}`;
    used.add(name);
    const why = DOOR_NAME.test(d.section)
      ? 'is used by an earlier section'
      : 'is not a knockgate door name (1-32 letters, digits, "_", "." or "-", starting with a letter or digit)';
    warn(d.line, `section name ${q(d.section)} ${why}; the door is named ${q(name)}`);
    return name;
  });
}

/** Whole seconds from an atoi-read knockd value, clamped to what knockgate accepts. */
function seconds(
  s: KnockdSetting<string> | undefined,
  fallback: number,
  min: number,
  max: number,
  what: string,
  warn: KnockdWarn,
  warnRange: boolean,
): number {
  if (s === undefined) return fallback;
  const n = cAtoi(s.value);
  if (!n.exact) warn(s.line, `${s.key}: knockd reads ${q(s.value)} as ${n.value} (seconds)`);
  if (n.value < min || n.value > max) {
    const v = Math.min(max, Math.max(min, n.value));
    if (warnRange)
      warn(
        s.line,
        `${s.key}: ${n.value}s does not carry over: the import keeps ${what} within ${min}s to ${max}s; imported as ${v}s`,
      );
    return v;
  }
  return n.value;
}

/** One door's YAML lines, named `name` (see doorNames). */
export function emitDoor(d: KnockdSection, name: string, warn: KnockdWarn, fail: KnockdFail): string[] {
  const out = [`  - name: ${yamlString(name)}`];
  if (d.oneTime !== undefined) {
    out.push(`    one_time_sequences: ${yamlString(d.oneTime.value)}`);
    checkPath(d.oneTime, warn);
    warn(
      d.oneTime.line,
      `${d.oneTime.key}: knockgate reads and marks the file as knockd does, but refuses a malformed line where knockd skips it`,
    );
    if (d.sequence !== undefined) {
      const order =
        d.sequence.line < d.oneTime.line ? 'replaces it at once' : 'takes over after the first successful knock';
      warn(
        d.sequence.line,
        `${d.sequence.key}: dropped: the door also reads One_Time_Sequences, which in knockd ${order}`,
      );
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

  const seqS = seconds(
    d.seqTimeout,
    KNOCKD_SEQ_TIMEOUT_S,
    MIN_IMPORTED_SEQ_TIMEOUT_S,
    MAX_SEQUENCE_TIMEOUT_MS / 1000,
    'sequence_timeout',
    warn,
    true,
  );
  out.push(`    sequence_timeout: ${yamlString(`${seqS}s`)}`);
  const flags = [...d.flags].map(([flag, set]) => `${set ? '' : '!'}${flag.toLowerCase()}`).join(',');
  out.push(`    tcp_flags: ${yamlString(flags === '' ? 'any' : flags)}`);

  if (d.target !== undefined) {
    const t = d.target;
    const parsed = parseIPAddress(t.value);
    if (parsed === null) {
      fail(
        t.line,
        t.key,
        `${q(t.value)} is not an IP address: knockd compares Target as text with the packet's destination address, and knockgate needs an address`,
      );
    }
    const canonical = formatIPAddress(parsed as NonNullable<typeof parsed>);
    if (canonical !== t.value) {
      warn(
        t.line,
        `${t.key}: knockd compares the text ${q(t.value)} with the destination address as it formats it (${q(canonical)}), so it never matched; knockgate matches the address`,
      );
    }
    out.push(`    target: ${yamlString(t.value)}`);
  }

  // Commands, as knockd runs them (process_attempt): per family, start is the family's command or the
  // IPv4 fallback, '' or absent runs nothing, and stop runs only after a non-empty start.
  const start4 = d.start?.value ?? '';
  const start6 = d.start6?.value ?? d.start?.value ?? '';
  const stop4 = start4 === '' ? '' : (d.stop?.value ?? '');
  const stop6 = start6 === '' ? '' : (d.stop6?.value ?? d.stop?.value ?? '');
  const keys: { start_shell: string; start_shell_6?: string; stop_shell?: string; stop_shell_6?: string } = {
    start_shell: start4,
  };
  if (d.start6 !== undefined) keys.start_shell_6 = d.start6.value;
  if (d.stop !== undefined) keys.stop_shell = d.stop.value;
  if (d.stop6 !== undefined) keys.stop_shell_6 = d.stop6.value;
  // knockgate runs a stop command even after an empty start: blank the stops knockd never runs.
  const stopOf = (family: 4 | 6): string =>
    family === 4 ? (keys.stop_shell ?? '') : (keys.stop_shell_6 ?? keys.stop_shell ?? '');
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
  if (d.stop6 === undefined && keys.stop_shell_6 !== undefined && keys.stop_shell_6 === (keys.stop_shell ?? ''))
    delete keys.stop_shell_6;
  if (fixes.length > 0) {
    const at = (d.stop ?? d.stop6 ?? d.start ?? d.start6) as KnockdSetting<string>;
    warn(
      at.line,
      `door ${q(name)}: knockd never runs the ${fixes.join(' and ')} stop command${fixes.length > 1 ? 's' : ''}, because the start command for that family is empty; imported as an empty stop command`,
    );
  }
  if (start4 === '' && start6 === '') {
    warn(d.line, `door ${q(name)} runs no command: knockd only logs the knock, and so will knockgate`);
  }
  out.push(`    start_shell: ${yamlString(keys.start_shell)}`);
  if (keys.start_shell_6 !== undefined) out.push(`    start_shell_6: ${yamlString(keys.start_shell_6)}`);
  if (keys.stop_shell !== undefined) out.push(`    stop_shell: ${yamlString(keys.stop_shell)}`);
  if (keys.stop_shell_6 !== undefined) out.push(`    stop_shell_6: ${yamlString(keys.stop_shell_6)}`);

  const hasStop = stop4 !== '' || stop6 !== '';
  const durS = seconds(
    d.cmdTimeout,
    KNOCKD_CMD_TIMEOUT_S,
    MIN_GRANT_DURATION_S,
    MAX_GRANT_DURATION_S,
    'duration',
    warn,
    hasStop,
  );
  out.push(`    duration: ${yamlString(`${durS}s`)}`);
  return out;
}
