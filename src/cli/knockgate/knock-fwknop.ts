/**
 * `knockgate knock --fwknop FILE HOST` and `knockgate knock --fwknoprc [STANZA] HOST`: one
 * fwknop-format packet, for servers that run fwknopd, with the keys in a knockgate fwknop
 * credential or in the user's ~/.fwknoprc (client/fwknoprc-credential.ts). The command line wins
 * over the stanza: --ports over ACCESS, --duration over FW_TIMEOUT, --allow-ip / --resolve-url
 * over ALLOW_IP, --spa-port over SPA_SERVER_PORT.
 */

import { resolveOwnAddress } from '../../client/address-resolver.js';
import { readFwknopCredential } from '../../client/fwknop-sender.js';
import { allowOf, readFwknoprcKnock } from '../../client/fwknoprc-credential.js';
import { knockFwknop } from '../../client/knock.js';
import type { AddressPrefix } from '../../core/address-prefix.js';
import { formatEndpoint } from '../../core/endpoint.js';
import { KnockgateError } from '../../core/errors.js';
import type { SpaFlags } from './spa-options.js';

export interface FwknopFlags extends SpaFlags {
  fwknop?: string;
  fwknoprc?: string | true;
  rcFile?: string;
}

/** Sends the packet; returns the address knocked. `say` prints -v lines. */
export async function knockWithFwknop(
  host: string,
  family: 4 | 6 | undefined,
  o: FwknopFlags,
  say: (line: string) => void,
): Promise<string> {
  if (o.fwknop !== undefined && o.fwknoprc !== undefined)
    throw new KnockgateError('KG_USAGE', 'give one of --fwknop and --fwknoprc');
  let fw = o.fwknop !== undefined ? readFwknopCredential(o.fwknop) : null;
  let target = host;
  let ports = o.ports;
  let durationS = o.duration ?? 0;
  let allow: AddressPrefix | 'source' | undefined = o.allowIp;
  if (o.fwknoprc !== undefined) {
    const rc = readFwknoprcKnock({ ...(o.rcFile ? { file: o.rcFile } : {}), stanza: o.fwknoprc, host });
    for (const w of rc.settings.warnings) process.stderr.write(`knockgate: ${w}\n`);
    fw = rc.cred;
    target = rc.host;
    ports ??= rc.settings.ports ? [...rc.settings.ports] : undefined;
    durationS = o.duration ?? rc.settings.durationS ?? 0;
    if (allow === undefined && o.resolveUrl === undefined) {
      const fromRc = allowOf(o.rcFile ?? '~/.fwknoprc', rc.settings);
      if (fromRc === 'resolve') {
        const address = await resolveOwnAddress(rc.settings.resolveUrl as string, { family: 4 });
        allow = { address, prefix: 32 };
      } else if (fromRc !== null) allow = fromRc;
    }
    say(`fwknoprc stanza [${rc.settings.stanza}]${target !== host ? `: SPA_SERVER ${target}` : ''}`);
  }
  if (fw === null) throw new Error('no fwknop keys (the caller checks --fwknop / --fwknoprc)');
  if (!ports)
    throw new KnockgateError(
      'KG_USAGE',
      `${o.fwknoprc !== undefined ? 'the stanza has no ACCESS and no --ports was given' : '--fwknop needs --ports'}, e.g. --ports 22/tcp (fwknop -A)`,
    );
  if (allow === undefined && o.resolveUrl !== undefined)
    allow = { address: await resolveOwnAddress(o.resolveUrl, { family: 4 }), prefix: 32 };
  const sent = await knockFwknop({
    fw,
    host: target,
    family,
    ports,
    durationS,
    ...(allow !== undefined ? { allow } : {}),
    ...(o.spaPort !== undefined ? { spaPort: o.spaPort } : {}),
  });
  say(
    `sent fwknop SPA to ${sent.address} port ${sent.port}/udp asking for ${ports.map(formatEndpoint).join(', ')} for ${sent.allow}`,
  );
  return sent.address;
}
