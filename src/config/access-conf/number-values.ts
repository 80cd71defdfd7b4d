/**
 * Reading the values of access.conf variables that are numbers or dates, as fwknop 2.6.11's
 * server/access.c does:
 *   - FW_ACCESS_TIMEOUT and MAX_FW_TIMEOUT: strtol, 0 to 2<<22 seconds (below 1 means the default,
 *     applied when the stanza is finished);
 *   - ACCESS_EXPIRE is sscanf "%2d/%2d/%4d" (MM/DD/YYYY, two-digit years are 20xx), converted with
 *     mktime at 00:00:00 local standard time (tm_isdst 0) of that day, the start of the day
 *     (add_acc_expire_time); ACCESS_EXPIRE_EPOCH is strtoul (add_acc_expire_time_epoch); 0 (or
 *     less) means no expiry.
 *
 * Contract: each returns the value fwknopd would use, or throws a ConfigError at the variable for
 * a value fwknopd rejects; a value fwknopd reads differently from how it is written is a warning.
 * ACCESS_EXPIRE depends on this process's time zone (as fwknopd's mktime() does on its host); the
 * warning says so. ACCESS_EXPIRE_EPOCH must be written as digits here: strtoul's silent readings
 * (a sign, trailing text) would hide a mistyped expiry.
 */

import { cStrtol, isDigit, shown, skipSpace } from './c-readings.js';
import { RCHK_MAX_FW_TIMEOUT_S } from './fwknopd-constants.js';
import type { AccessConfReport, Loc } from './report.js';

/** FW_ACCESS_TIMEOUT, MAX_FW_TIMEOUT: seconds as strtol reads them (0: fwknopd's default). */
export function readTimeout(report: AccessConfReport, at: Loc, key: string, val: string): number {
  const r = cStrtol(val);
  if (r.value < 0 || r.value > RCHK_MAX_FW_TIMEOUT_S)
    report.fail(at, key, `${shown(val)} is not in range [0,${RCHK_MAX_FW_TIMEOUT_S}] seconds`);
  if (!r.digits) report.warn(at, `fwknopd reads ${shown(val)} as 0, which means its default`);
  else if (r.rest.trim() !== '')
    report.warn(at, `fwknopd reads ${shown(val)} as ${r.value} seconds (strtol ignores the rest)`);
  return r.value;
}

/** ACCESS_EXPIRE: Unix seconds of the start of that day, local standard time. */
export function readExpireDate(report: AccessConfReport, at: Loc, key: string, val: string): number {
  // sscanf(val, "%2d/%2d/%4d", &mon, &mday, &year)
  let i = 0;
  const field = (width: number): number | null => {
    i = skipSpace(val, i);
    const start = i;
    if (val[i] === '+' || val[i] === '-') i++;
    while (i - start < width && isDigit(val[i])) i++;
    const t = val.slice(start, i);
    return /\d/.test(t) ? Number(t) : null;
  };
  const fields: number[] = [];
  for (const [width, sep] of [
    [2, '/'],
    [2, '/'],
    [4, ''],
  ] as const) {
    const v = field(width);
    if (v === null) break;
    fields.push(v);
    if (sep !== '') {
      if (val[i] !== sep) break;
      i++;
    }
  }
  const [mon, mday, year] = fields;
  if (fields.length !== 3 || mon === undefined || mday === undefined || year === undefined) {
    return report.fail(at, key, `invalid date value ${shown(val)} (need MM/DD/YYYY)`);
  }
  // add_acc_expire_time(): tm_mon-1 when > 0; years above 1900 are full years, below 100 are 20xx.
  const tmMon = mon > 0 ? mon - 1 : mon;
  const tmYear = year > 1900 ? year - 1900 : year < 100 ? year + 100 : year;
  // mktime() with tm_isdst = 0: that wall-clock time in the zone's standard (non-DST) offset.
  const utc = Date.UTC(1900 + tmYear, tmMon, mday, 0, 0, 0);
  const y = new Date(utc).getUTCFullYear();
  const standardOffsetMin = Math.max(new Date(y, 0, 1).getTimezoneOffset(), new Date(y, 6, 1).getTimezoneOffset());
  const epoch = Math.floor(utc / 1000) + standardOffsetMin * 60;
  const offsetText = `UTC${standardOffsetMin <= 0 ? '+' : '-'}${String(Math.floor(Math.abs(standardOffsetMin) / 60)).padStart(2, '0')}:${String(Math.abs(standardOffsetMin) % 60).padStart(2, '0')}`;
  if (epoch <= 0)
    report.fail(
      at,
      key,
      `${shown(val)} is at or before 1970-01-01, which fwknopd treats as "no expiry"; remove ACCESS_EXPIRE or give a real date`,
    );
  const day = new Date(utc).toISOString().slice(0, 10);
  const odd = i < val.length || !/^\d{2}\/\d{2}\/\d{4}$/.test(val);
  report.warn(
    at,
    `ACCESS_EXPIRE ${shown(val)} is the start of ${day} in local standard time (fwknopd's mktime); converted in this machine's time zone (${offsetText}) to access_expire_epoch ${epoch}${odd ? ' (not written as MM/DD/YYYY: check that this is the day you mean)' : ''}; use ACCESS_EXPIRE_EPOCH for an exact instant`,
  );
  return epoch;
}

/** ACCESS_EXPIRE_EPOCH: Unix seconds; 0: no expiry. */
export function readExpireEpoch(report: AccessConfReport, at: Loc, key: string, val: string): number {
  if (!/^\+?\d+$/.test(val.trim())) {
    const r = cStrtol(val);
    report.fail(
      at,
      key,
      `${shown(val)} is not a number of seconds (fwknopd's strtoul would read ${r.digits ? r.value : 0}${r.value <= 0 ? ', i.e. no expiry' : ''}); write the epoch seconds as digits`,
    );
  }
  const n = Number(val.trim());
  if (!Number.isSafeInteger(n)) report.fail(at, key, `${shown(val)} is out of range`);
  if (n === 0) report.warn(at, 'ACCESS_EXPIRE_EPOCH 0 means no expiry to fwknopd, and to this import');
  return n;
}
