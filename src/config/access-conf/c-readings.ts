/**
 * How fwknopd's C code reads text, reproduced so the import reads access.conf byte for byte as
 * fwknopd does: isspace() and isdigit() in the C locale, strtol(), glibc's inet_aton(),
 * chop_whitespace() of 2.6.11 and b64_decode() of lib/base64.c. Values are latin1 strings (one
 * character per byte); utf8Of() and shown() turn them into text for YAML and messages.
 *
 * Contract: pure functions; none throws on any input.
 */

const C_SPACE = ' \t\n\v\f\r';
export const isCSpace = (c: string | undefined): boolean => c !== undefined && c !== '' && C_SPACE.includes(c);
export const skipSpace = (s: string, i: number): number => {
  while (isCSpace(s[i])) i++;
  return i;
};
export const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** chop_whitespace() of 2.6.11, loop bound included: index 0 is never examined. */
export function chopWhitespace(s: string): string {
  for (let i = s.length - 1; i > 0; i--) {
    if (!isCSpace(s[i])) return s.slice(0, i + 1);
  }
  return s;
}

/** strtol(s, &end, 10): the value (0, with `digits` false, when there are none) and the text after it. */
export function cStrtol(s: string): { value: number; digits: boolean; rest: string } {
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
export function inetAton(s: string): number | null {
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

export const formatIPv4 = (a: number): string => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');

/** The prefix length of a contiguous netmask, or null. */
export function prefixOf(mask: number): number | null {
  for (let p = 0; p <= 32; p++) {
    const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    if (m === mask >>> 0) return p;
  }
  return null;
}

/** b64_decode() of lib/base64.c, after is_base64() has passed: stops at the first `=`. */
export function fwknopBase64Decode(text: string): Buffer {
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
export function utf8Of(latin1: string): string | null {
  try {
    return UTF8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return null;
  }
}

/** A latin1 value for a message: its UTF-8 text when it is UTF-8, JSON-quoted. */
export const shown = (latin1: string): string => JSON.stringify(utf8Of(latin1) ?? latin1);
