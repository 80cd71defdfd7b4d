/**
 * A fast, exact reading of the key files knockgate writes, which are flat YAML: one `key: value`
 * per line and comments. `knockgate knock` pays for every module it runs on every ssh
 * (ProxyCommand); the YAML library's first parse costs a few milliseconds of a knock, this a few
 * microseconds.
 *
 * Contract: returns the mapping exactly as the YAML library would read it, or null for anything it
 * does not read with certainty, and the caller then uses the YAML library (which also names the
 * line of an error). Values read here: a double-quoted string in JSON's syntax (what the writers
 * use), a decimal integer, a flow list of such strings, and a plain word of base64url/text
 * characters that YAML's core schema does not read as anything but a string. Every other form
 * (numbers with a sign, a point or a radix; true/false/null/~; anchors, tags, nesting, multi-line
 * values, duplicate keys, '#' after a value) gives null.
 */

const KEY = /^([a-z][a-z0-9_]{0,63}): (.*)$/;
const PLAIN = /^-?[A-Za-z0-9_][A-Za-z0-9_+/=.:-]*$/;
/** What YAML's core schema may read as a number: digits, points, exponents, signs, 0x and 0o. */
const NUMBERLIKE = /^[-+]?(0[xXoO]|[0-9.][0-9.eE+-]*$)/;
const INTEGER = /^(0|[1-9][0-9]{0,14})$/;
const YAML_WORDS = /^(true|false|null|yes|no|on|off|y|n|~)$/i;
/**
 * A double-quoted string of printable characters and JSON's escapes (no control characters: the
 * C0 and C1 ranges and DEL, Unicode's Cc, written out rather than as \p{Cc}, whose compilation
 * under the u flag costs ~0.3 ms of a knock).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class names the control characters in order to exclude them
const JSON_STRING = /^"(?:[^"\\\x00-\x1f\x7f-\x9f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"$/;

function scalar(text: string): string | number | undefined {
  if (JSON_STRING.test(text)) return JSON.parse(text) as string;
  if (INTEGER.test(text)) return Number(text);
  if (PLAIN.test(text) && !NUMBERLIKE.test(text) && !YAML_WORDS.test(text) && !text.endsWith(':')) return text;
  return undefined;
}

export function parseFlatKeyFile(text: string): Record<string, unknown> | null {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) continue;
    const m = KEY.exec(line);
    if (!m) return null;
    const key = m[1] as string;
    const value = (m[2] as string).trimEnd();
    if (Object.hasOwn(out, key)) return null;
    if (value.startsWith('[') && value.endsWith(']')) {
      const items = value.slice(1, -1).trim();
      const list =
        items === ''
          ? []
          : items.split(/\s*,\s*/).map((s) => (JSON_STRING.test(s) ? (JSON.parse(s) as string) : undefined));
      if (list.some((v) => v === undefined)) return null;
      out[key] = list;
      continue;
    }
    const v = scalar(value);
    if (v === undefined) return null;
    out[key] = v;
  }
  return { ...out };
}
