/**
 * A door's `sequence:` key: a list of steps (`[7000, 8000/udp]`), or a mapping with `totp:` for a
 * sequence derived from a shared secret and the clock (core/totp-sequence.ts). Each form is checked
 * by its own schema and its issues passed on unchanged, so an error names the key it is about.
 */

import { z } from 'zod';
import { formatDurationMs } from '../core/duration.js';
import type { Endpoint } from '../core/endpoint.js';
import {
  DEFAULT_TOTP_PERIOD_MS,
  DEFAULT_TOTP_STEPS,
  MAX_SEQUENCE_STEPS,
  MAX_TOTP_PERIOD_MS,
  MIN_TOTP_PERIOD_MS,
  MIN_TOTP_STEPS,
} from '../core/limits.js';
import { duration, endpoint } from './schema-values.js';

/** `LOW-HIGH`, two port numbers (YAML reads `ports: 20000-29999` as this text). */
const portRange = z.unknown().transform((v, ctx): { low: number; high: number } => {
  const m = typeof v === 'string' ? /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(v) : null;
  const low = Number(m?.[1]);
  const high = Number(m?.[2]);
  if (m === null || low < 1 || high > 65_535 || low > high) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message:
        v === undefined
          ? 'required: the port range LOW-HIGH the steps are drawn from, like 20000-29999'
          : `expected a port range LOW-HIGH like 20000-29999 (1-65535, LOW <= HIGH), got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return { low, high };
});

/** `sequence: { totp: FILE, ... }`: a sequence derived from a shared secret and the clock (core/totp-sequence.ts). */
const totpSequenceSchema = z
  .object({
    totp: z.string().min(1),
    steps: z.number().int().min(MIN_TOTP_STEPS).max(MAX_SEQUENCE_STEPS).default(DEFAULT_TOTP_STEPS),
    period: duration(MIN_TOTP_PERIOD_MS, MAX_TOTP_PERIOD_MS, true).default(formatDurationMs(DEFAULT_TOTP_PERIOD_MS)),
    ports: portRange,
    protocol: z.enum(['tcp', 'udp', 'mixed']).default('tcp'),
  })
  .strict();

const fixedSequenceSchema = z.array(endpoint).min(1, 'a sequence needs at least one step').max(MAX_SEQUENCE_STEPS);

/** A list of steps, or a mapping with `totp:`; each checked by its own schema, so errors name the right key. */
export const sequenceSchema = z.unknown().transform((v, ctx): Endpoint[] | RawTotpSequence => {
  const r =
    Array.isArray(v) || typeof v !== 'object' || v === null
      ? fixedSequenceSchema.safeParse(v)
      : totpSequenceSchema.safeParse(v);
  if (r.success) return r.data;
  // Passed on as they are (path, code, keys), so that an unknown key is reported as any other.
  for (const issue of r.error.issues) ctx.addIssue(issue as z.IssueData);
  return z.NEVER;
});

export type RawTotpSequence = z.infer<typeof totpSequenceSchema>;
