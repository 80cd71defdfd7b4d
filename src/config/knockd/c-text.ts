/**
 * How knockd's C code reads text (knockd.c: trim(), strtoupper(), atoi()), in the C locale, so
 * that the import reads knockd.conf exactly as knockd does.
 *
 * Contract: pure functions; none throws on any input.
 */

/** C's isspace() in the C locale, at either end. */
const C_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
/** trim(): C whitespace cut from both ends. */
export const cTrim = (s: string): string => s.replace(C_SPACE, '');
/** C's toupper() in the C locale: ASCII letters only. */
export const asciiUpper = (s: string): string => s.replace(/[a-z]+/g, (m) => m.toUpperCase());

/**
 * atoi(): optional leading whitespace and sign, then digits; 0 when there are none. `exact`: the
 * text (trimmed) is nothing but that number, so knockd's reading is the one the user wrote.
 */
export function cAtoi(text: string): { value: number; exact: boolean } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(text) as RegExpExecArray;
  const digits = m[2] as string;
  const magnitude = digits === '' ? 0 : Number(digits);
  return { value: m[1] === '-' ? -magnitude : magnitude, exact: /^[+-]?\d+$/.test(cTrim(text)) };
}
