/**
 * Reading the audit trail back (`knockgate audit`): the files in the order they were written (the
 * rotated ones `.N` down to `.1`, then the file itself; audit-file.ts renames, so each record is in
 * exactly one of them), each line parsed, and the records chosen by time, door, client and
 * address. A line that is not a record (the fragment a failed write could not cut off) is
 * skipped and counted, never fatal. The filters are pure; only readAuditTrail() reads files.
 */

import { existsSync, readFileSync } from 'node:fs';
import { parseDurationMs } from '../core/duration.js';
import { parseGrantSelector, selectsGrant, type GrantSelector } from '../core/grant-selector.js';
import { MAX_AUDIT_KEEP_FILES } from '../core/limits.js';
import { AUDIT_EVENTS, type AuditRecord } from '../ports/audit-log.js';

export interface AuditFilter {
  /** Records at or after this, Unix ms. */
  readonly sinceUnixMs?: number;
  readonly door?: string;
  readonly client?: string;
  /** ADDRESS or ADDRESS/PREFIX: records whose source lies inside it. */
  readonly address?: string;
}

/** The trail's files that exist, oldest first. */
export function auditFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let i = MAX_AUDIT_KEEP_FILES; i >= 1; i--) if (existsSync(`${path}.${i}`)) rotated.push(`${path}.${i}`);
  return existsSync(path) ? [...rotated, path] : rotated;
}

/** The records of one file's text, and how many lines were not records. */
export function parseAuditText(text: string): { records: AuditRecord[]; skipped: number } {
  const records: AuditRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = parseRecord(line);
    if (r === null) skipped++;
    else records.push(r);
  }
  return { records, skipped };
}

export function readAuditTrail(path: string): { files: string[]; records: AuditRecord[]; skipped: number } {
  const files = auditFiles(path);
  const records: AuditRecord[] = [];
  let skipped = 0;
  for (const f of files) {
    const r = parseAuditText(readFileSync(f, 'utf8'));
    records.push(...r.records);
    skipped += r.skipped;
  }
  return { files, records, skipped };
}

/** `--since`: a duration back from `nowUnixMs` (`1h`, `30m`) or an ISO 8601 time. */
export function parseSince(text: string, nowUnixMs: number): number | { error: string } {
  const ms = parseDurationMs(text);
  if (typeof ms === 'number') return nowUnixMs - ms;
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return t;
  }
  return {
    error: `expected a duration back from now (1h, 30m, 2d) or an ISO time (2026-12-03T12:00:00Z), got ${JSON.stringify(text)}`,
  };
}

/** The filter as a predicate; an error for a bad address. */
export function auditPredicate(filter: AuditFilter): ((r: AuditRecord) => boolean) | { error: string } {
  const named = filter.door !== undefined || filter.client !== undefined || filter.address !== undefined;
  const selector: GrantSelector | { error: string } = parseGrantSelector(
    named ? { door: filter.door, client: filter.client, source: filter.address } : { all: true },
  );
  if ('error' in selector) return selector;
  const since = filter.sinceUnixMs;
  return (r) =>
    (since === undefined || Date.parse(r.time) >= since) &&
    selectsGrant(selector, { id: r.grant, door: r.door, source: r.source, client: r.client ?? undefined });
}

function parseRecord(line: string): AuditRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  const o = v as Record<string, unknown>;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    typeof o.time === 'string' &&
    (AUDIT_EVENTS as readonly unknown[]).includes(o.event) &&
    typeof o.grant === 'string' &&
    typeof o.door === 'string' &&
    typeof o.source === 'string' &&
    Array.isArray(o.ports);
  return ok ? (o as unknown as AuditRecord) : null;
}
