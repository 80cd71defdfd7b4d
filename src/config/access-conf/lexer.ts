/**
 * access.conf lines, as fwknopd's parse_access_file() cuts them (fwknop 2.6.11 server/access.c):
 *   - lines are read with fgets into MAX_LINE_LEN (1024) bytes (a longer line would be read as two:
 *     an error here); a line whose first byte is `#`, `;`, CR, LF or NUL is skipped (IS_EMPTY_LINE:
 *     only the first byte counts, so an indented `#` is a variable named `#...`);
 *   - any other line is sscanf(line, "%s %[^;\n\r]"): a variable name (leading whitespace skipped),
 *     then a value that stops at `;` and must not be empty, else the file is rejected; a `:` ending
 *     the name is cut (strrchr); trailing whitespace is cut from the value (chop_whitespace, new in
 *     2.6.11: 2.6.10 keeps it; its loop never looks at the first byte, so a one-character value
 *     keeps its trailing blanks).
 *
 * Contract: `text` is the file read as latin1 (one character per byte); a NUL inside a line is an
 * error (fwknopd would cut the line there). Names and values are returned verbatim otherwise.
 */

import { chopWhitespace, isCSpace, shown, skipSpace } from './c-readings.js';
import { MAX_LINE_LEN } from './fwknopd-constants.js';
import type { AccessConfReport, Loc } from './report.js';

/** One `VARIABLE value` line. */
export interface AccessLine {
  readonly at: Loc;
  /** The variable, a trailing `:` cut; case as written (fwknopd compares with strcmp). */
  readonly name: string;
  /** The value as fwknopd 2.6.11 keeps it (trailing whitespace cut). */
  readonly value: string;
  /** The value as sscanf read it, before chop_whitespace. */
  readonly rawValue: string;
  /** Text after a `;` that ended the value (ignored by fwknopd), trimmed; '' when none. */
  readonly afterSemicolon: string;
}

/**
 * The `VARIABLE value` lines of one file, in order; skipped lines are left out. Lazy, so that a
 * fault on a later line is met only after everything the earlier lines do (as fwknopd meets it).
 */
export function* lexAccessConf(file: string, text: string, report: AccessConfReport): Generator<AccessLine> {
  const lines = text.split('\n');
  // A final newline ends the last line; it does not start another one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const [n, raw] of lines.entries()) {
    const line = lexAccessLine({ file, line: n + 1 }, raw, report);
    if (line !== null) yield line;
  }
}

/** One line (without its `\n`): null when fwknopd skips it. */
export function lexAccessLine(at: Loc, raw: string, report: AccessConfReport): AccessLine | null {
  if (Buffer.byteLength(raw, 'latin1') > MAX_LINE_LEN - 1)
    report.fail(at, undefined, `line longer than ${MAX_LINE_LEN - 1} bytes: fwknopd would read it as two lines`);
  const first = raw[0];
  if (first === undefined || first === '#' || first === ';' || first === '\r' || first === '\0') return null;
  if (raw.includes('\0')) report.fail(at, undefined, 'NUL byte in line (fwknopd would cut the line there)');
  // sscanf(line, "%s %[^;\n\r]", var, val)
  let i = skipSpace(raw, 0);
  const varStart = i;
  while (i < raw.length && !isCSpace(raw[i])) i++;
  let name = raw.slice(varStart, i);
  i = skipSpace(raw, i);
  const valStart = i;
  while (i < raw.length && raw[i] !== ';' && raw[i] !== '\r') i++;
  const rawValue = raw.slice(valStart, i);
  if (name === '' || rawValue === '')
    report.fail(at, name || undefined, `invalid access file entry ${shown(raw)}: fwknopd needs "VARIABLE value"`);
  const colon = name.lastIndexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  const afterSemicolon = raw[i] === ';' ? raw.slice(i + 1).trim() : '';
  return { at, name, value: chopWhitespace(rawValue), rawValue, afterSemicolon };
}
