/**
 * The record layouts of the receive bindings, declared once in native/record-layout.h: each addon
 * exports the layout it was built with as `recordLayout`, and each TypeScript decoder (udp.ts,
 * pcap-binding.ts) states the layout it decodes. loadNativeAddon compares the two when it loads
 * the addon and refuses one that disagrees in any field (KG_CAPTURE_FAILED naming the fields),
 * so a decoder never reads records at offsets the C code did not write them at: not after an
 * edit made on one side only, not with a stale build in dist/libexec.
 *
 * Why a check at load rather than generating one side from the other: the check is against the
 * binary actually loaded, which is what can be stale (built before a pull, or by hand after an
 * install); a generated file would agree with the sources and still not with that binary.
 */

import { KnockgateError } from '../core/errors.js';

/** Field name → byte offset or size, as in native/record-layout.h. */
export type RecordLayout = Readonly<Record<string, number>>;

/** Throws KG_CAPTURE_FAILED unless `actual` (an addon's recordLayout) has exactly the fields of `expected`. */
export function checkRecordLayout(file: string, actual: unknown, expected: RecordLayout): void {
  const got: Readonly<Record<string, unknown>> =
    typeof actual === 'object' && actual !== null ? (actual as Record<string, unknown>) : {};
  const names = new Set([...Object.keys(expected), ...Object.keys(got)]);
  const wrong: string[] = [];
  for (const name of [...names].sort()) {
    if (got[name] !== expected[name]) wrong.push(`${name}: ${String(got[name])} (decoder expects ${expected[name]})`);
  }
  if (wrong.length === 0) return;
  throw new KnockgateError(
    'KG_CAPTURE_FAILED',
    `${file} writes records the decoder does not read (native/record-layout.h and src/sensors disagree, or ${file} is a stale build; rebuild with scripts/build-native.sh): ${wrong.join('; ')}`,
  );
}
