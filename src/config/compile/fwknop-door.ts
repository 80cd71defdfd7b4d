/**
 * Compiles an fwknop-compatible door: its stanzas come from `access_conf` (an fwknopd access.conf,
 * imported as `knockgate import` would) and then from `stanzas` in knockgate.yaml, in that order,
 * which is the order a packet is matched in.
 *
 * Contract: knock and native-SPA keys are errors; max_duration not shorter than duration; at
 * least one stanza; the import's warnings are added to the config's warnings as `FILE:LINE: text`.
 */

import type { Door, FwknopStanza } from '../../core/door.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { importAccessConf } from '../fwknop-access-conf.js';
import { fwknopStanzaSchema, type RawDoor } from '../schema.js';
import type { CompileContext, ConfigPath } from './context.js';
import { doorMaxDurationS, doorPath, type DoorCommon } from './door-common.js';
import { compileFwknopStanza } from './fwknop-stanza.js';
import { noKnockFields } from './knock-door.js';

export function compileFwknopDoor(ctx: CompileContext, d: RawDoor, fwknop: NonNullable<RawDoor['fwknop']>, i: number, common: DoorCommon): Door {
  const { fail, src } = ctx;
  const at = (...key: ConfigPath): ConfigPath => doorPath(i, ...key);
  for (const key of ['sequence', 'one_time_sequences', 'sequence_timeout', 'tcp_flags', 'hide_knock_ports', 'clients'] as const) {
    if (d[key] !== undefined) fail(at(key), 'not for fwknop doors');
  }
  const doorMaxS = doorMaxDurationS(ctx, d, i);
  const stanzas: FwknopStanza[] = [];
  if (d.access_conf !== undefined) {
    const accessFile = ctx.resolvePath(d.access_conf);
    const imported = importAccessConf(accessFile);
    for (const w of imported.warnings) ctx.warnings.push(`${w.file}:${w.line}: ${w.message}`);
    const list = parseYaml(imported.stanzasYaml) as unknown;
    const parsedStanzas = z.array(fwknopStanzaSchema).safeParse(list ?? []);
    if (!parsedStanzas.success) fail(at('access_conf'), `${accessFile}: ${parsedStanzas.error.issues[0]?.message ?? 'invalid'}`);
    (parsedStanzas.data ?? []).forEach((st, n) => {
      stanzas.push(compileFwknopStanza(ctx, d, st, { origin: `${accessFile} stanza ${n + 1}`, path: at('access_conf'), fromYaml: false }));
    });
  }
  (d.stanzas ?? []).forEach((st, n) => {
    stanzas.push(compileFwknopStanza(ctx, d, st, { origin: `${src.file}:${src.lineOf(at('stanzas', n)) ?? '?'}`, path: at('stanzas', n), fromYaml: true }));
  });
  if (stanzas.length === 0) fail(at('stanzas'), 'a fwknop door needs "stanzas" or "access_conf"');
  return Object.freeze({
    ...common,
    spa: null,
    fwknop: Object.freeze({ port: fwknop.port, capture: fwknop.capture, stanzas: Object.freeze(stanzas), maxDurationS: doorMaxS }),
    ...noKnockFields(),
  });
}
