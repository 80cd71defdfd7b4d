/**
 * Loads one of knockgate's Node-API addons from dist/libexec (built by scripts/build-native.sh),
 * once; a missing or broken build is KG_CAPTURE_FAILED naming the file and the script that builds it.
 * With `layout`, the addon's exported recordLayout must equal it (record-layout.ts), else
 * KG_CAPTURE_FAILED; an addon that failed the check is not cached, so every load fails alike.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { KnockgateError } from '../core/errors.js';
import { checkRecordLayout, type RecordLayout } from './record-layout.js';

const loaded = new Map<string, unknown>();

export function loadNativeAddon<T>(file: string, what: string, layout?: RecordLayout): T {
  const cached = loaded.get(file);
  if (cached !== undefined) return cached as T;
  const path = fileURLToPath(new URL(`../../libexec/${file}`, import.meta.url));
  const build = fileURLToPath(new URL('../../../scripts/build-native.sh', import.meta.url));
  let addon: T;
  try {
    addon = createRequire(import.meta.url)(path) as T;
  } catch (err) {
    throw new KnockgateError(
      'KG_CAPTURE_FAILED',
      `the ${what} did not load from ${path} (build the native parts with ${build}; it needs gcc, libc6-dev, libpcap-dev and libnftables-dev): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (layout !== undefined) checkRecordLayout(file, (addon as { recordLayout?: unknown }).recordLayout, layout);
  loaded.set(file, addon);
  return addon;
}
