/**
 * `knockgate import FILE`: a knockd.conf or an fwknop access.conf turned into knockgate YAML. The
 * kind is the one given, else guessed (a `[section]` line: knockd.conf). Each thing that does not
 * carry over exactly goes to `onWarning` as "FILE:LINE: message", in order, before the result is
 * checked: the YAML returned always loads (parseConfigText throws, exit 78, if it would not).
 * Throws KG_USAGE on an unknown kind.
 */

import { resolve } from 'node:path';
import type { Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { importAccessConf } from './fwknop-access-conf.js';
import { importKnockdConf } from './knockd-conf.js';
import { parseConfigText, readConfigFile } from './load.js';

export function importConfig(
  file: string,
  from: string | undefined,
  onWarning: (line: string) => void,
  options: { readonly open?: readonly Endpoint[] } = {},
): string {
  const path = resolve(file);
  const text = readConfigFile(path);
  const kind = from ?? (/^\s*\[[^\]]+\]\s*$/m.test(text) ? 'knockd' : 'fwknop');
  if (kind !== 'knockd' && kind !== 'fwknop')
    throw new KnockgateError('KG_USAGE', `--from must be knockd or fwknop, got ${JSON.stringify(kind)}`);
  if (kind === 'knockd' && options.open !== undefined)
    throw new KnockgateError('KG_USAGE', '--open is for an access.conf; a knockd.conf names its ports itself');
  const imported =
    kind === 'knockd'
      ? importKnockdConf(path, text)
      : importAccessConf(path, options.open === undefined ? {} : { open: options.open });
  if ('open' in imported && imported.open.length === 0)
    throw new KnockgateError(
      'KG_USAGE',
      `${path}: no stanza has OPEN_PORTS, and fwknopd then opens whatever a client asks for; say which ports this door may open with --open, e.g. knockgate import --open 22/tcp ${file}`,
    );
  for (const w of imported.warnings) {
    const where = 'file' in w ? `${String(w.file)}:${w.line}` : `${path}:${w.line}`;
    onWarning(`${where}: ${w.message}`);
  }
  parseConfigText(path, imported.yaml); // what we print must load
  return imported.yaml;
}
