/**
 * The shape of `sensor:` in knockgate.yaml (checked strictly, like the rest of schema.ts); the
 * rules that span it and the doors are in compile/sensor.ts.
 */

import { z } from 'zod';
import { MAX_KERNEL_LOG_PREFIX_BYTES, MAX_NFLOG_GROUP } from '../core/limits.js';

/** `prefix` of the kernel-log sensor: printable ASCII without `"` or `\\` (nft quotes it). */
const LOG_PREFIX = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * `sensor:` (config/compile/sensor.ts): `pcap` (the default), `kernel-log` (every default), or
 * one key naming the sensor with its settings: `{ nflog: { group: 7 } }`,
 * `{ kernel-log: { prefix: "kg: ", source: kmsg | journal | { file: PATH }, log_rule: true } }`.
 */
export const sensorSchema = z.union(
  [
    z.enum(['pcap', 'kernel-log']),
    z.object({ nflog: z.object({ group: z.number().int().min(0).max(MAX_NFLOG_GROUP) }).strict() }).strict(),
    z
      .object({
        'kernel-log': z
          .object({
            prefix: z
              .string()
              .min(1)
              .max(MAX_KERNEL_LOG_PREFIX_BYTES)
              .regex(LOG_PREFIX, 'printable ASCII, without " or \\')
              .optional(),
            source: z
              .union([z.enum(['kmsg', 'journal']), z.object({ file: z.string().min(1) }).strict()], {
                errorMap: () => ({ message: 'expected kmsg, journal or { file: PATH }' }),
              })
              .default('kmsg'),
            log_rule: z.boolean().default(true),
          })
          .strict(),
      })
      .strict(),
  ],
  {
    errorMap: () => ({
      message: 'expected pcap, kernel-log, { nflog: { group: N } } or { kernel-log: { prefix, source, log_rule } }',
    }),
  },
);
