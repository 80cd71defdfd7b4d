/**
 * Compiles an fwknop-compatible door: its stanzas come from `access_conf` (an fwknopd access.conf,
 * imported as `knockgate import` would) and then from `stanzas` in knockgate.yaml, in that order,
 * which is the order a packet is matched in.
 *
 * Contract: knock and native-SPA keys are errors; max_duration not shorter than duration; at
 * least one stanza; the import's warnings are added to the config's warnings as `FILE:LINE: text`.
 * A fault in an imported stanza is reported at the access.conf file, line and variable that hold
 * it (the door and its knockgate.yaml line are named where the fault is a mismatch with the door).
 */

import type { Door, FwknopStanza } from '../../core/door.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { importAccessConf, type StanzaOrigin } from '../fwknop-access-conf.js';
import { fwknopStanzaSchema, type RawDoor } from '../schema.js';
import type { CompileContext, ConfigPath } from './context.js';
import { doorMaxDurationS, doorPath, type DoorCommon } from './door-common.js';
import { compileFwknopStanza } from './fwknop-stanza.js';
import { noKnockFields } from './knock-door.js';

export function compileFwknopDoor(
  ctx: CompileContext,
  d: RawDoor,
  fwknop: NonNullable<RawDoor['fwknop']>,
  i: number,
  common: DoorCommon,
): Door {
  const { fail, src } = ctx;
  const at = (...key: ConfigPath): ConfigPath => doorPath(i, ...key);
  for (const key of [
    'sequence',
    'one_time_sequences',
    'sequence_timeout',
    'tcp_flags',
    'hide_knock_ports',
    'clients',
  ] as const) {
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
    if (!parsedStanzas.success) {
      const issue = parsedStanzas.error.issues[0];
      const [n, field] = issue?.path ?? [];
      const origin = typeof n === 'number' ? imported.stanzaOrigins[n] : undefined;
      if (origin !== undefined)
        failInAccessConf(origin, typeof field === 'string' ? [field] : [], issue?.message ?? 'invalid');
      fail(at('access_conf'), `${accessFile}: ${issue?.message ?? 'invalid'}`);
    }
    const openText = `the "open" ports of door ${JSON.stringify(d.name)} (${src.file}:${src.lineOf(at('open')) ?? '?'})`;
    (parsedStanzas.data ?? []).forEach((st, n) => {
      const origin = imported.stanzaOrigins[n] as StanzaOrigin;
      stanzas.push(
        compileFwknopStanza(ctx, d, st, {
          origin: `${accessFile} stanza ${n + 1}`,
          fromYaml: false,
          doorOpenText: openText,
          fail: (field, message) => failInAccessConf(origin, field, message),
        }),
      );
    });
  }
  (d.stanzas ?? []).forEach((st, n) => {
    const path = at('stanzas', n);
    stanzas.push(
      compileFwknopStanza(ctx, d, st, {
        origin: `${src.file}:${src.lineOf(path) ?? '?'}`,
        fromYaml: true,
        doorOpenText: 'the door\'s "open" ports',
        fail: (field, message) => fail([...path, ...field], message),
      }),
    );
  });
  if (stanzas.length === 0) fail(at('stanzas'), 'a fwknop door needs "stanzas" or "access_conf"');
  if (ctx.raw.firewall === 'none' && common.startCommand === null && common.shell === null) {
    const idle = stanzas.findIndex((s) => !s.cmdCycle && !s.cmdExec);
    if (idle >= 0)
      fail(
        at('start_command'),
        `with firewall: none a door must have a start_command, or it does nothing (stanza ${(stanzas[idle] as FwknopStanza).origin} has neither cmd_cycle nor cmd_exec)`,
      );
  }
  return Object.freeze({
    ...common,
    spa: null,
    fwknop: Object.freeze({
      port: fwknop.port,
      capture: fwknop.capture,
      stanzas: Object.freeze(stanzas),
      maxDurationS: doorMaxS,
    }),
    ...noKnockFields(),
  });
}

/**
 * An imported stanza's fault, at the access.conf variable that set `field` (the first element of
 * the path; the stanza's SOURCE line when the field was a default), not at the door's access_conf
 * key: the fix belongs in that file, perhaps one that access.conf %includes.
 */
function failInAccessConf(origin: StanzaOrigin, field: ConfigPath, message: string): never {
  const name = typeof field[0] === 'string' ? field[0] : 'source';
  const at = origin.variables[name] ??
    origin.variables.source ?? { file: origin.file, line: origin.line, key: 'SOURCE' };
  throw new ConfigError(at.file, at.line, at.key, message);
}
