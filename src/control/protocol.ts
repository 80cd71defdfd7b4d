/**
 * The control protocol between `knockgate` (status, grants, revoke, extend, open, reload) and a running
 * knockgated, over its Unix socket (control/socket-path.ts). Pure: schemas and types, no I/O.
 *
 * One request per connection: the client writes one JSON object and a newline (at most
 * MAX_CONTROL_REQUEST_BYTES), the daemon answers one JSON object and a newline, then closes.
 * Every request carries `v` (CONTROL_PROTOCOL_VERSION); a daemon refuses another version with a
 * named error rather than guessing. The answer is `{ v, ok: true, result }` or
 * `{ v, ok: false, error: { code, message } }`, `code` from core/errors.ts, so the client exits
 * with the status the daemon's error has.
 *
 * `operator` is who asked, as the client reports it (SUDO_USER, else the login name). The socket
 * is root's only, so this is a record for the log and audit trail, not an authentication.
 */

import { z } from 'zod';
import { MAX_GRANT_DURATION_S, MAX_OPERATOR_TEXT_CHARS, MAX_SPA_PORTS } from '../core/limits.js';

export const CONTROL_PROTOCOL_VERSION = 1;

const text = z.string().min(1).max(MAX_OPERATOR_TEXT_CHARS);
// Names as the config allows them, and no control characters in what the log will carry.
const printable = text.regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const durationS = z.number().int().min(1).max(MAX_GRANT_DURATION_S);

export const selectorSchema = z
  .object({
    id: printable.optional(),
    source: printable.optional(),
    door: printable.optional(),
    client: printable.optional(),
    all: z.literal(true).optional(),
  })
  .strict();

const base = { v: z.literal(CONTROL_PROTOCOL_VERSION), operator: printable.optional() };

export const controlRequestSchema = z.discriminatedUnion('op', [
  z.object({ ...base, op: z.literal('status') }).strict(),
  z.object({ ...base, op: z.literal('grants') }).strict(),
  z.object({ ...base, op: z.literal('reload') }).strict(),
  z.object({ ...base, op: z.literal('revoke'), select: selectorSchema }).strict(),
  z.object({ ...base, op: z.literal('extend'), select: selectorSchema, duration_s: durationS }).strict(),
  z
    .object({
      ...base,
      op: z.literal('open'),
      door: printable,
      source: printable,
      ports: z.array(printable).min(1).max(MAX_SPA_PORTS).optional(),
      duration_s: durationS.optional(),
      reason: printable,
    })
    .strict(),
]);

export type ControlRequest = z.infer<typeof controlRequestSchema>;
export type ControlOp = ControlRequest['op'];
export type SelectorInput = z.infer<typeof selectorSchema>;

/** A grant as the operator sees it. Times are ISO 8601 UTC; `remaining_s` is whole seconds, rounded up. */
export interface GrantView {
  readonly id: string;
  readonly door: string;
  /** An address, or ADDRESS/PREFIX for a prefix grant. */
  readonly source: string;
  readonly family: 4 | 6;
  /** `22/tcp`, ...; empty for a door that only runs commands. */
  readonly ports: readonly string[];
  /** The SPA client or fwknop stanza that asked, `operator:NAME` for `knockgate open`; null for a knock sequence. */
  readonly client: string | null;
  readonly since: string;
  readonly until: string;
  readonly remaining_s: number;
}

export interface DoorView {
  readonly name: string;
  readonly kind: 'sequence' | 'one-time' | 'time-based' | 'spa' | 'fwknop';
  /** The UDP port an SPA or fwknop door listens on, and how (socket or pcap); null for a sequence door. */
  readonly listen: { readonly port: number; readonly capture: 'socket' | 'pcap' } | null;
  readonly opens: readonly string[];
  readonly duration_s: number;
  readonly grants: number;
}

export interface StatusReport {
  readonly version: string;
  readonly pid: number;
  readonly uptime_s: number;
  readonly config: string;
  readonly table: string;
  readonly firewall: { readonly kind: string; readonly enforcing: boolean; readonly transport: string | null };
  readonly interfaces: readonly string[];
  readonly sensors: readonly string[];
  readonly doors: readonly DoorView[];
  readonly grants_active: number;
  readonly pending_stop_commands: number;
  /** Records the local replay store holds, and its capacity; null without SPA doors. */
  readonly replay: { readonly entries: number; readonly capacity: number } | null;
  /** The figures of the `stats` log line (flat names, metrics/stats-line.ts). */
  readonly counters: Readonly<Record<string, number>>;
}

export interface RevokeResult {
  readonly revoked: readonly GrantView[];
}

export interface ExtendResult {
  /** Grants that now run until the new time. */
  readonly extended: readonly GrantView[];
  /** Grants that already ran at least that long: left as they were (extend never shortens). */
  readonly unchanged: readonly GrantView[];
}

export interface OpenResult {
  readonly verdict: 'opened' | 'extended';
  readonly grant: GrantView;
}

/**
 * What a reload applied, by name. The daemon reads its configuration again from where it was
 * started (the same file, or the same knockd.conf); `clients_*` are by door, for doors kept.
 */
export interface ReloadResult {
  readonly config: string;
  readonly doors_added: readonly string[];
  readonly doors_removed: readonly string[];
  readonly doors_changed: readonly string[];
  readonly clients_added: Readonly<Record<string, readonly string[]>>;
  readonly clients_removed: Readonly<Record<string, readonly string[]>>;
  readonly server_key_changed: boolean;
  /** Grants live after the reload (all of them: a reload never closes one). */
  readonly grants_kept: number;
  /** Knock sequences in progress that start over (the tracker is the new configuration's). */
  readonly sequences_reset: number;
}

export interface ControlResults {
  readonly status: StatusReport;
  readonly grants: readonly GrantView[];
  readonly revoke: RevokeResult;
  readonly extend: ExtendResult;
  readonly open: OpenResult;
  readonly reload: ReloadResult;
}

export type ControlAnswer =
  | { readonly v: number; readonly ok: true; readonly result: unknown }
  | { readonly v: number; readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** A request line parsed and checked; an error message naming the first problem otherwise. */
export function parseControlRequest(line: string): ControlRequest | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'the request is not JSON' };
  }
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== CONTROL_PROTOCOL_VERSION)
    return {
      error: `control protocol version ${String(value.v)} is not spoken here (this daemon speaks ${CONTROL_PROTOCOL_VERSION})`,
    };
  const parsed = controlRequestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { error: `bad request: ${at}${issue?.message ?? 'invalid'}` };
}

/** The answer line a client received, checked for shape (the daemon is trusted, its bytes are still checked). */
export function parseControlAnswer(line: string): ControlAnswer | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'the daemon answered something that is not JSON' };
  }
  if (typeof value !== 'object' || value === null || !('ok' in value))
    return { error: 'the daemon answered without ok' };
  const v = value as Record<string, unknown>;
  if (v.ok === true && 'result' in v) return { v: Number(v.v), ok: true, result: v.result };
  const e = v.error as Record<string, unknown> | undefined;
  if (v.ok === false && typeof e?.code === 'string' && typeof e.message === 'string')
    return { v: Number(v.v), ok: false, error: { code: e.code, message: e.message } };
  return { error: 'the daemon answered in a form this client does not know' };
}
