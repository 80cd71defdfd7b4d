/**
 * The start step after the firewall is installed: the grants the kernel kept are booked under the
 * labels recorded before the restart (grant-adoption.ts matches them), each kernel element logged
 * `grant-adopted` with the grant it belongs to; an unreadable records file is logged and its
 * grants come back with door unknown.
 */

import { randomUUID } from 'node:crypto';
import { formatEndpoint } from '../core/endpoint.js';
import type { Clock } from '../ports/clock.js';
import type { ActiveGrant } from '../ports/gate.js';
import type { GrantRecordStore } from '../ports/grant-records.js';
import type { Logger } from '../ports/logger.js';
import { adoptGrants, sameSource } from './grant-adoption.js';
import type { Grantor } from './grantor.js';
import type { GrantBook } from './grants.js';

export interface AdoptionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly grantRecords: GrantRecordStore | null;
  readonly book: GrantBook;
  readonly grantor: Grantor;
}

export function bookAdoptedGrants(kept: readonly ActiveGrant[], deps: AdoptionDeps): void {
  const { clock, log, grantRecords } = deps;
  if (grantRecords?.problem)
    log.warn({ event: 'grant-records-unreadable', detail: grantRecords.problem }, grantRecords.problem);
  const now = { nowMs: clock.nowMs(), nowUnixMs: clock.unixMs() };
  const onExpire = deps.grantor.adoptedExpiry();
  const adopted = adoptGrants(kept, grantRecords?.loaded ?? [], now, randomUUID);
  for (const g of adopted) deps.book.adopt(g, onExpire);
  // One line per kernel element, as before there were labels, now with the grant it belongs to.
  for (const el of kept) {
    const port = formatEndpoint(el.endpoint);
    const g = adopted.find(
      (a) => sameSource(a.source, el.source) && a.endpoints.some((e) => formatEndpoint(e) === port),
    );
    const line = {
      source: el.source,
      port,
      expires_in_s: el.expiresInS,
      grant: g?.id,
      door: g?.door,
      client: g?.client,
    };
    log.info({ event: 'grant-adopted', ...line }, 'grant found in the kernel kept');
  }
}
