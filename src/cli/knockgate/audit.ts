/**
 * `knockgate audit`: the audit trail a knockgated writes (stores/audit-file.ts), read back with
 * its rotated files in order (audit/read-audit.ts): a table by default, the raw JSON lines with
 * --json; --since, --door, --client, --address choose records; --follow keeps printing new ones.
 *
 * Which file: --file; else the `audit_log` of --config; else that of /etc/knockgate/knockgate.yaml
 * when it exists; else /var/log/knockgate/audit.jsonl. Exit statuses: 0 (also when no record
 * matches: an empty trail is an answer), 64 bad arguments, 66 no trail there or unreadable.
 */

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type AuditFilter,
  auditPredicate,
  parseAuditText,
  parseSince,
  readAuditTrail,
} from '../../audit/read-audit.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../config/load.js';
import { DEFAULT_AUDIT_LOG } from '../../config/schema.js';
import { KnockgateError } from '../../core/errors.js';
import type { AuditRecord } from '../../ports/audit-log.js';

interface AuditFlags {
  file?: string;
  config?: string;
  json?: boolean;
  since?: number;
  door?: string;
  client?: string;
  address?: string;
  follow?: boolean;
}

/** How often --follow looks for new lines. */
const FOLLOW_POLL_MS = 500;

export function addAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('who was granted access, extended, expired or revoked: the audit trail, rotated files included')
    .option('--file <path>', 'the audit trail (default: audit_log of the configuration)')
    .option('-c, --config <file>', 'the configuration whose audit_log to read', undefined)
    .option('--json', 'print the records as they are in the file, one JSON object a line')
    .option('--since <when>', 'records since a time back from now (1h, 2d) or an ISO time', (v: string) => {
      const t = parseSince(v, Date.now());
      if (typeof t !== 'number') throw new InvalidArgumentError(t.error);
      return t;
    })
    .option('--door <name>', "this door's records")
    .option('--client <name>', "this client's records (operator:NAME for an operator's grants)")
    .option('--address <address[/prefix]>', 'records for this address, or inside this prefix')
    .option('-f, --follow', 'keep printing records as they are appended')
    .action(async (o: AuditFlags) => {
      const path = trailPath(o);
      const filter: AuditFilter = { sinceUnixMs: o.since, door: o.door, client: o.client, address: o.address };
      const keep = auditPredicate(filter);
      if (typeof keep !== 'function') throw new KnockgateError('KG_USAGE', `--address: ${keep.error}`);
      const trail = readTrail(path);
      if (trail.files.length === 0 && !o.follow)
        throw new KnockgateError(
          'KG_AUDIT_UNREADABLE',
          `no audit trail at ${path} (nothing recorded yet, or audit_log says elsewhere)`,
        );
      const chosen = trail.records.filter(keep);
      if (o.json) for (const r of chosen) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`${formatAudit(chosen)}\n`);
      if (trail.skipped > 0)
        process.stderr.write(`knockgate: ${trail.skipped} line(s) of ${path} are not audit records (skipped)\n`);
      if (o.follow) await follow(path, keep, o.json === true);
    });
}

function readTrail(path: string): ReturnType<typeof readAuditTrail> {
  try {
    return readAuditTrail(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EACCES' ? " (the trail is root's: use sudo)" : '';
    throw new KnockgateError('KG_AUDIT_UNREADABLE', `cannot read the audit trail: ${e.message}${hint}`);
  }
}

function trailPath(o: AuditFlags): string {
  if (o.file !== undefined && o.config !== undefined)
    throw new KnockgateError('KG_USAGE', 'give one of --file and --config');
  if (o.file !== undefined) return o.file;
  const config = o.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (config === undefined) return DEFAULT_AUDIT_LOG;
  const audit = loadConfig(config).audit;
  if (audit === null)
    throw new KnockgateError('KG_USAGE', `${config} says audit_log: none (no audit trail is written)`);
  return audit.file;
}

export function formatAudit(records: readonly AuditRecord[]): string {
  if (records.length === 0) return 'no audit records';
  const rows = records.map((r) => [
    r.time,
    r.event,
    r.grant.slice(0, 8),
    r.door,
    r.source,
    r.ports.join(',') || '-',
    r.client ?? '-',
    r.until ?? '-',
    r.operator ?? '-',
    r.reason ?? '',
  ]);
  const head = ['TIME', 'EVENT', 'GRANT', 'DOOR', 'SOURCE', 'PORTS', 'CLIENT', 'UNTIL', 'OPERATOR', 'REASON'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * --follow: polls the file for appended lines; when the path names a new file (knockgated rotated
 * it, or logrotate moved it), reads that one from its start. Best effort: lines written to a
 * moved file after this noticed the move are not shown (they are in that file).
 */
async function follow(path: string, keep: (r: AuditRecord) => boolean, json: boolean): Promise<never> {
  let ino = existsSync(path) ? statSync(path).ino : -1;
  let offset = ino >= 0 ? statSync(path).size : 0;
  let partial = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    if (!existsSync(path)) continue;
    const st = statSync(path);
    if (st.ino !== ino) {
      ino = st.ino;
      offset = 0;
      partial = '';
    }
    if (st.size <= offset) continue;
    const fd = openSync(path, 'r');
    const buf = Buffer.alloc(st.size - offset);
    try {
      readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = st.size;
    const text = partial + buf.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    partial = text.slice(end);
    for (const r of parseAuditText(text.slice(0, end)).records.filter(keep))
      process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${formatAudit([r]).split('\n')[1]}\n`);
  }
}
