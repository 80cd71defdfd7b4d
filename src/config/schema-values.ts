/**
 * The value parsers the configuration schemas share: a port (`22`, `22/tcp`, `7000/udp`) and a
 * duration with a unit, bounded (and whole seconds where the kernel's timeouts need them). Each
 * reports its error through zod, so the loader names file, line and key.
 */

import { z } from 'zod';
import { formatDurationMs, parseDurationMs } from '../core/duration.js';
import { parseEndpoint, type Endpoint } from '../core/endpoint.js';

export const endpoint = z.unknown().transform((v, ctx): Endpoint => {
  const r = parseEndpoint(v);
  if ('error' in r) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
    return z.NEVER;
  }
  return r;
});

export function duration(minMs: number, maxMs: number, wholeSeconds: boolean) {
  return z.unknown().transform((v, ctx): number => {
    const r = parseDurationMs(v);
    if (typeof r !== 'number') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
      return z.NEVER;
    }
    if (r < minMs || r > maxMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be from ${formatDurationMs(minMs)} to ${formatDurationMs(maxMs)}, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    if (wholeSeconds && r % 1000 !== 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be whole seconds (the kernel's set timeouts are), got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return r;
  });
}
