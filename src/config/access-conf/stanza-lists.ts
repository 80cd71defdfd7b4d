/**
 * SOURCE, DESTINATION, OPEN_PORTS and RESTRICT_PORTS lists, as fwknop 2.6.11's server/access.c
 * expands them (expand_acc_int_list, add_int_ent, expand_acc_port_list, parse_proto_and_port):
 *   - SOURCE and DESTINATION: `,`-separated items, leading whitespace skipped, each shorter than 32
 *     characters (ACCESS_BUF_LEN 33); `ANY` (any case), an address, or address/mask where the mask
 *     is 1-32 (strtol) or, when longer than 2 characters, dotted (7-15 characters); addresses are
 *     read with inet_aton (octal, hex and short forms, text after a blank ignored); host bits are
 *     masked off;
 *   - OPEN_PORTS and RESTRICT_PORTS: `,`-separated proto/port items, proto tcp or udp in any case,
 *     port 0-65535 read with strtol.
 *
 * Contract: an item fwknopd rejects, and one knockgate cannot express (a non-contiguous netmask,
 * port 0, more ports than a door may open), is a ConfigError at the variable; an item fwknopd reads
 * differently from how it is written is imported as fwknopd reads it, with a warning. Duplicates
 * are dropped; `ANY` anywhere makes the list ["ANY"].
 */

import type { Endpoint, Protocol } from '../../core/endpoint.js';
import { MAX_OPEN_PORTS_PER_DOOR } from '../../core/limits.js';
import { cStrtol, formatIPv4, inetAton, prefixOf, shown, skipSpace } from './c-readings.js';
import { ACCESS_BUF_LEN, MAX_IPV4_STR_LEN, MAX_PORT, MIN_IPV4_STR_LEN } from './fwknopd-constants.js';
import type { AccessConfReport, Setting } from './report.js';

/** expand_acc_int_list() + add_int_ent(): `["ANY"]` or normalised addresses and prefixes. */
export function addressList(report: AccessConfReport, s: Setting<string>): string[] {
  const out: string[] = [];
  let any = false;
  for (const item of splitList(s.value)) {
    if (item.length + 1 >= ACCESS_BUF_LEN)
      report.fail(s, s.key, `list item ${shown(item)} is ${ACCESS_BUF_LEN - 1} characters or longer (fwknopd's limit)`);
    if (item.toLowerCase() === 'any') {
      any = true;
      continue;
    }
    const bad = (why: string): never => report.fail(s, s.key, `invalid ${s.key} ${shown(item)}: ${why}`);
    let ipText = item;
    let mask: number;
    let needShift = true;
    let maskNote = '';
    const slash = item.indexOf('/');
    if (slash >= 0) {
      if (slash >= MAX_IPV4_STR_LEN) bad('address too long');
      const maskText = item.slice(slash + 1);
      if (maskText.length > 2) {
        if (maskText.length < MIN_IPV4_STR_LEN || maskText.length >= MAX_IPV4_STR_LEN)
          bad(`invalid mask ${shown(maskText)}`);
        const m = inetAton(maskText);
        if (m === null) bad(`invalid mask ${shown(maskText)}`);
        mask = m as number;
        needShift = false;
        if (formatIPv4(mask) !== maskText) maskNote = ` (mask ${shown(maskText)} read as ${formatIPv4(mask)})`;
      } else if (maskText.length > 0) {
        const r = cStrtol(maskText);
        if (r.value < 1 || r.value > 32) bad('the mask must be 1 to 32');
        mask = r.value;
        if (r.rest.trim() !== '') maskNote = ` (mask ${shown(maskText)} read as /${mask})`;
      } else {
        return bad('missing mask value');
      }
      ipText = item.slice(0, slash);
    } else {
      mask = 32;
      if (item.length >= MAX_IPV4_STR_LEN) bad('address too long');
    }
    const ip = inetAton(ipText);
    if (ip === null) bad(`not an IPv4 address (fwknopd's inet_aton fails; fwknopd's access lists are IPv4 only)`);
    const bits =
      mask === 32 ? 0xffffffff : needShift && mask > 0 && mask < 32 ? (0xffffffff << (32 - mask)) >>> 0 : mask;
    const prefix = prefixOf(bits);
    if (prefix === null)
      return bad(`the netmask ${formatIPv4(bits)} is not contiguous, which knockgate cannot express`);
    const network = ((ip as number) & bits) >>> 0;
    const text = prefix === 32 ? formatIPv4(network) : `${formatIPv4(network)}/${prefix}`;
    const written = ipText.replace(/[ \t\n\v\f\r]+$/, '');
    if (written !== formatIPv4(ip as number) || maskNote !== '') {
      report.warn(s, `fwknopd reads ${shown(item)} as ${text}${maskNote} (inet_aton/strtol); imported as ${text}`);
    }
    if (!out.includes(text)) out.push(text);
  }
  return any ? ['ANY'] : out;
}

/** expand_acc_port_list() + parse_proto_and_port(). */
export function portList(report: AccessConfReport, s: Setting<string>): Endpoint[] {
  const out: Endpoint[] = [];
  for (const item of splitList(s.value)) {
    if (item.length + 1 >= ACCESS_BUF_LEN)
      report.fail(s, s.key, `list item ${shown(item)} is ${ACCESS_BUF_LEN - 1} characters or longer (fwknopd's limit)`);
    const slash = item.indexOf('/');
    if (slash < 0)
      report.fail(s, s.key, `parse error on access port entry ${shown(item)}: need proto/port such as tcp/22`);
    const protoText = item.slice(0, slash);
    const proto = protoText.toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp')
      report.fail(s, s.key, `invalid protocol in access port entry ${shown(item)}: tcp or udp`);
    const r = cStrtol(item.slice(slash + 1));
    if (r.value < 0 || r.value > MAX_PORT)
      report.fail(s, s.key, `invalid port in ${shown(item)}, must be in [0,${MAX_PORT}]`);
    if (r.value === 0)
      report.fail(s, s.key, `fwknopd reads ${shown(item)} as port 0, which knockgate cannot open or restrict`);
    if (r.rest.trim() !== '')
      report.warn(s, `fwknopd reads ${shown(item)} as ${proto}/${r.value} (strtol ignores the rest)`);
    const e: Endpoint = { proto: proto as Protocol, port: r.value };
    if (!out.some((o) => o.proto === e.proto && o.port === e.port)) out.push(e);
  }
  if (out.length > MAX_OPEN_PORTS_PER_DOOR)
    report.fail(s, s.key, `more than ${MAX_OPEN_PORTS_PER_DOOR} ports, knockgate's limit per door`);
  return out;
}

/** The items of a `,`-separated list as fwknopd cuts them: leading whitespace skipped, the rest kept. */
export function splitList(value: string): string[] {
  return value.split(',').map((item) => item.slice(skipSpace(item, 0)));
}
