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
 * The steps, one file each under knockd/: the file read as knockd reads it (parser.ts, with knockd's
 * C readings in c-text.ts and the Sequence and TCPFlags syntax in values.ts), each door section
 * translated into a knockgate door (door-translation.ts); this file translates [options] (LogFile,
 * PidFile, Interface with knockd's default eth0, UseSyslog) and writes the YAML with its review
 * header.
 */

import { ConfigError } from '../core/errors.js';
import { checkPath, doorNames, emitDoor } from './knockd/door-translation.js';
import { parseKnockdConf } from './knockd/parser.js';
import type { KnockdWarn } from './knockd/values.js';
import { commentText, yamlString } from './yaml-scalar.js';

export interface KnockdImport {
  /** knockgate YAML (our own schema), ready to write to a file or to parse with parseConfigText. */
  readonly yaml: string;
  /** One line per thing that does not carry over exactly, with the knockd.conf line number. */
  readonly warnings: readonly { line: number; message: string }[];
}

/** knockd's default interface (knockd.c o_int). */
const KNOCKD_INTERFACE = 'eth0';
/** Linux interface names (IFNAMSIZ - 1), as schema.ts accepts them. */
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const q = JSON.stringify;

export function importKnockdConf(file: string, text: string): KnockdImport {
  const warnings: { line: number; message: string }[] = [];
  const warn: KnockdWarn = (line, message) => warnings.push({ line, message });
  const fail = (line: number | undefined, key: string | undefined, detail: string): never => {
    throw new ConfigError(file, line, key, detail);
  };
  const { logFile, pidFile, iface, syslog, doors } = parseKnockdConf(file, text, warn);

  // ----- top level -----
  let interfaceName = KNOCKD_INTERFACE;
  if (iface === undefined) {
    warn(
      0,
      `no Interface: using knockd's default ${KNOCKD_INTERFACE}; if knockd ran with -i (Debian: KNOCKD_OPTS in /etc/default/knockd), change "interfaces"`,
    );
  } else {
    if (!INTERFACE_NAME.test(iface.value))
      fail(iface.line, iface.key, `${q(iface.value)} is not a Linux interface name`);
    interfaceName = iface.value;
  }
  if (logFile !== undefined && logFile.value !== '') {
    warn(
      logFile.line,
      'knockgate writes its own JSON log lines to the log file, not knockd\'s "[date] ip: door: Stage 1" lines; adjust anything that parses it',
    );
    checkPath(logFile, warn);
  }
  if (pidFile !== undefined && pidFile.value !== '') checkPath(pidFile, warn);
  if (syslog !== undefined)
    warn(syslog, "knockgate sends its own log lines to syslog (through logger(1)), worded differently from knockd's");

  const body: string[] = [`interfaces: [${yamlString(interfaceName)}]`, 'firewall: none'];
  if (logFile !== undefined && logFile.value !== '') body.push(`log_file: ${yamlString(logFile.value)}`);
  if (syslog !== undefined) body.push('syslog: true');
  if (pidFile !== undefined && pidFile.value !== '') body.push(`pid_file: ${yamlString(pidFile.value)}`);
  body.push('doors:');
  const names = doorNames(doors, warn);
  doors.forEach((d, i) => {
    body.push(...emitDoor(d, names[i] as string, warn, fail));
  });

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
  return Object.freeze({ yaml: `${out.join('\n')}\n`, warnings: Object.freeze(all.map((w) => Object.freeze(w))) });
}
