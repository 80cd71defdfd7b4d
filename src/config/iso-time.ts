/**
 * A point in time as the configuration writes it: ISO 8601 / RFC 3339 with an explicit offset,
 * `2026-12-10T12:00:00Z` or `2026-12-10T13:00:00+01:00` (seconds and fractions optional). A time
 * without an offset is refused: read on another machine or after a change of time zone it would
 * name another instant. Dates that do not exist (2026-02-30) are refused, not rolled over.
 *
 * Contract: parseIsoTimeMs never throws; it returns Unix milliseconds or the reason it cannot.
 */

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:\d{2})$/;

export function parseIsoTimeMs(text: unknown): number | { readonly error: string } {
  const shape = 'an ISO 8601 time with its offset, e.g. 2026-12-10T12:00:00Z';
  if (typeof text !== 'string') return { error: `must be ${shape} (quote it), got ${JSON.stringify(text)}` };
  const m = ISO_TIME.exec(text);
  if (m === null) return { error: `must be ${shape}, got ${JSON.stringify(text)}` };
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, sec);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== (mo as number) - 1 ||
    back.getUTCDate() !== d ||
    (h as number) > 23 ||
    (mi as number) > 59 ||
    (sec as number) > 59
  )
    return { error: `${JSON.stringify(text)} is not a date and time that exists` };
  const parsed = Date.parse(text.replace(' ', 'T'));
  if (Number.isNaN(parsed)) return { error: `must be ${shape}, got ${JSON.stringify(text)}` };
  return parsed;
}

/** Unix ms as the configuration writes times: UTC, to the second. */
export function formatIsoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
