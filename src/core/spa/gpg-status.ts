/**
 * Reading what `gpg --status-fd` says of one decryption (GnuPG's doc/DETAILS, "Format of the
 * status lines"): `[GNUPG:] KEYWORD ARGS`, one per line. The keywords used:
 *   DECRYPTION_OKAY (the message decrypted and its integrity check held), DECRYPTION_FAILED;
 *   NEWSIG (a signature begins), GOODSIG / BADSIG / ERRSIG / EXPSIG / EXPKEYSIG / REVKEYSIG
 *   <long key id> ..., VALIDSIG <fingerprint> ... <primary key fingerprint> (the 10th argument).
 * Contract: decrypted is true only with DECRYPTION_OKAY and no DECRYPTION_FAILED; a signature is
 * 'good' only with GOODSIG and VALIDSIG and nothing else, and two signatures are 'bad' (fail
 * closed). Never throws. Pure.
 */

import type { GpgSignature } from './fwknop-gpg.js';

export interface GpgStatus {
  readonly decrypted: boolean;
  readonly signature: GpgSignature | null;
}

const HEX = /^[0-9A-Fa-f]{16,40}$/;

export function parseGpgStatus(text: string): GpgStatus {
  let okay = false;
  let failed = false;
  let signatures = 0;
  let good = false;
  let valid = false;
  let bad = false;
  let error = false;
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    const words = line.trimEnd().split(' ');
    if (words[0] !== '[GNUPG:]') continue;
    const [, keyword, first] = words;
    const id = first !== undefined && HEX.test(first) ? first.toUpperCase() : null;
    switch (keyword) {
      case 'DECRYPTION_OKAY':
        okay = true;
        break;
      case 'DECRYPTION_FAILED':
        failed = true;
        break;
      case 'NEWSIG':
        signatures++;
        break;
      case 'GOODSIG':
        good = true;
        if (id) ids.add(id);
        break;
      case 'VALIDSIG': {
        valid = true;
        if (id) ids.add(id);
        const primary = words[11];
        if (primary !== undefined && HEX.test(primary)) ids.add(primary.toUpperCase());
        break;
      }
      case 'ERRSIG':
        error = true;
        if (id) ids.add(id);
        break;
      case 'BADSIG':
      case 'EXPSIG':
      case 'EXPKEYSIG':
      case 'REVKEYSIG':
        bad = true;
        if (id) ids.add(id);
        break;
    }
  }
  const any = signatures > 0 || good || valid || bad || error;
  let signature: GpgSignature | null = null;
  if (any) {
    const status = signatures > 1 || bad ? 'bad' : error ? 'error' : good && valid ? 'good' : 'bad';
    // A long key id is the tail of its fingerprint: keep only the fingerprints once they are known.
    const all = [...ids];
    const keyIds = all.filter((k) => k.length === 40 || !all.some((f) => f.length === 40 && f.endsWith(k)));
    signature = { status, keyIds };
  }
  return { decrypted: okay && !failed, signature };
}
