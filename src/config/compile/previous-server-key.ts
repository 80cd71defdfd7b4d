/**
 * Key rotation in the `spa:` section: `previous_server_key` (the key before `server_key`) and
 * `previous_key_until` (the end of the overlap), given together or not at all.
 *
 * Contract: every failure is a ConfigError at the key concerned; the paths become absolute. Whether
 * the overlap has ended is not decided here (the configuration has no clock): the daemon warns at
 * start and the ladder refuses such packets by name from that instant on.
 */

import type { CompileContext } from './context.js';

export function compilePreviousServerKey(ctx: CompileContext): {
  previousServerKeyFile: string | null;
  previousKeyUntilMs: number | null;
} {
  const spa = ctx.raw.spa;
  const file = spa?.previous_server_key;
  const until = spa?.previous_key_until;
  if (file === undefined && until === undefined) return { previousServerKeyFile: null, previousKeyUntilMs: null };
  if (until === undefined)
    ctx.fail(
      ['spa', 'previous_server_key'],
      'needs previous_key_until too: the time (ISO 8601, e.g. 2026-12-10T12:00:00Z) after which packets under the previous key are refused',
    );
  if (file === undefined)
    ctx.fail(['spa', 'previous_key_until'], 'goes with previous_server_key (the key file it is the end of)');
  if (spa?.server_key === undefined)
    ctx.fail(['spa', 'previous_server_key'], 'needs server_key: the previous key is only kept beside a current one');
  const resolved = ctx.resolvePath(file);
  if (resolved === ctx.resolvePath(spa.server_key))
    ctx.fail(['spa', 'previous_server_key'], 'is the same file as server_key');
  return { previousServerKeyFile: resolved, previousKeyUntilMs: until };
}
