/**
 * Durations in configuration and on the command line: a whole number with a unit, `500ms`, `10s`,
 * `2m`, `1h`, `1d`. A bare number is refused on purpose: knockd reads seconds, fwknop sometimes
 * milliseconds, and a silent guess is how a 30-second grant becomes a 30-hour one.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_TEXT = /^(\d{1,9})\s*(ms|s|m|h|d)$/;

export function parseDurationMs(value: unknown): number | { error: string } {
  if (typeof value !== 'string') {
    return {
      error: `expected a duration with a unit such as "30s", "500ms", "2m" or "1h", got ${JSON.stringify(value)}`,
    };
  }
  const m = DURATION_TEXT.exec(value.trim());
  if (!m) {
    return {
      error: `expected a duration with a unit such as "30s", "500ms", "2m" or "1h", got ${JSON.stringify(value)}`,
    };
  }
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

export function formatDurationMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
