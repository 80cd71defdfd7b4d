/**
 * The YAML of an fwknop stanza's commands (a part of fwknopStanzaSchema, schema.ts):
 *   - `cmd_exec: { user, group? }`: ENABLE_CMD_EXEC with CMD_EXEC_USER (and CMD_EXEC_GROUP):
 *     command messages run as this user (core/spa/fwknop-command-message.ts);
 *   - `cmd_allow: [...]` (knockgate's): the commands allowed, exact or `/regular expression/`;
 *   - `cmd_cycle: { open, close, timer? }`: CMD_CYCLE_OPEN / CMD_CYCLE_CLOSE / CMD_CYCLE_TIMER,
 *     commands run instead of the firewall (core/spa/fwknop-cmd-cycle.ts); `close: NONE` runs none.
 * Only the shapes are checked here; the compiler (compile/fwknop-cmd-exec.ts, fwknop-cmd-cycle.ts)
 * resolves the user, compiles the patterns and parses the commands, naming the key of each fault.
 */

import { z } from 'zod';
import { MAX_CMD_ALLOW_ENTRIES, MAX_GRANT_DURATION_S } from '../core/limits.js';
import { duration } from './schema-values.js';

export const cmdExecSchema = z.object({ user: z.string().min(1), group: z.string().min(1).optional() }).strict();

export const cmdAllowSchema = z.array(z.string().min(1)).min(1).max(MAX_CMD_ALLOW_ENTRIES);

export const cmdCycleSchema = z
  .object({
    open: z.string().min(1),
    close: z.string().min(1),
    timer: duration(1000, MAX_GRANT_DURATION_S * 1000, true).optional(),
  })
  .strict();
