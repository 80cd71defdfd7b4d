// Invariant: parseCmdCycleCommand and expandCmdCycle, on any command text and any values for the variables (however hostile), never throw; a parsed command has 1 to 28 arguments and no program that is a variable; an expansion either refuses naming a variable the command uses, or gives one argument per template argument, each exactly its literal text with every variable replaced by a value that is nothing but hex digits, dots and colons (addresses) or decimal digits (numbers), so no byte outside the configured text and those classes reaches the argv.
/**
 * Fuzz target for src/core/spa/fwknop-cmd-cycle.ts (command cycle templating). The input is split
 * at its first NUL: the command text (latin1, as an access.conf line is read), then the variables'
 * values, NUL-separated (source, packet source, destination, port, protocol, timestamp, timeout),
 * read as text or as numbers so that both well-formed and hostile values are tried.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CmdCycleFacts,
  type CmdCycleVariable,
  cmdCycleValue,
  expandCmdCycle,
  MAX_CMD_CYCLE_ARGS,
  parseCmdCycleCommand,
} from '../../src/core/spa/fwknop-cmd-cycle.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

const PLAIN: Readonly<Record<CmdCycleVariable, RegExp>> = {
  IP: /^[0-9a-f.:]+$/,
  SRC: /^[0-9a-f.:]+$/,
  PKT_SRC: /^[0-9a-f.:]+$/,
  DST: /^[0-9a-f.:]+$/,
  PORT: /^[0-9]+$/,
  PROTO: /^[0-9]+$/,
  TIMEOUT: /^[0-9]+$/,
  CLIENT_TIMEOUT: /^[0-9]+$/,
};

function factsOf(fields: string[]): CmdCycleFacts {
  const num = (t: string | undefined): number => (t === undefined || t === '' ? 22 : Number(t));
  return {
    source: fields[0] ?? '198.18.0.2',
    packetSource: fields[1] ?? '198.18.0.3',
    destination: fields[2] === undefined ? null : fields[2],
    port: num(fields[3]),
    protocolNumber: num(fields[4]),
    timestampS: num(fields[5]),
    timeoutS: num(fields[6]),
  };
}

function check(input: Uint8Array): string {
  const text = Buffer.from(input).toString('latin1');
  const nul = text.indexOf('\0');
  const command = nul < 0 ? text : text.slice(0, nul);
  const facts = factsOf(nul < 0 ? [] : text.slice(nul + 1).split('\0'));
  const parsed = parseCmdCycleCommand(command);
  if ('error' in parsed) {
    assert.equal(typeof parsed.error, 'string');
    return 'parse-error';
  }
  const { args } = parsed;
  assert.ok(args.length >= 1 && args.length <= MAX_CMD_CYCLE_ARGS, `${args.length} arguments`);
  assert.equal(typeof args[0]?.[0], 'string', 'the program is literal text');
  const used = new Set(args.flatMap((a) => a.flatMap((p) => (typeof p === 'string' ? [] : [p.variable]))));
  const r = expandCmdCycle(args, facts);
  if ('refused' in r) {
    assert.ok(used.has(r.refused), `refused ${r.refused}, which the command does not use`);
    return `refused-${r.refused}`;
  }
  assert.equal(r.argv.length, args.length);
  args.forEach((arg, i) => {
    let expected = '';
    for (const part of arg) {
      if (typeof part === 'string') {
        expected += part;
        continue;
      }
      const value = cmdCycleValue(part.variable, facts);
      assert.ok(value !== null && PLAIN[part.variable].test(value), `${part.variable} = ${JSON.stringify(value)}`);
      expected += value;
    }
    assert.equal(r.argv[i], expected);
  });
  return used.size === 0 ? 'ok-literal' : 'ok';
}

const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const SEEDS = [
  '/usr/sbin/ipset add allow $SRC,$PROTO:$PORT timeout $CLIENT_TIMEOUT\x00198.18.0.2\x00198.18.0.9\x00198.18.0.1\x0022\x006\x001790000000\x0030',
  '/bin/echo $IP $PKT_SRC $DST $TIMEOUT\x002001:db8::2\x002001:db8::9',
  '/bin/echo $SRC\x00198.18.0.2;reboot',
  '/bin/echo $DST',
  '/bin/echo $PORT\x00\x00\x00\x00-1',
  '/bin/echo $FOO',
  '$SRC x',
  '/bin/true',
].map(enc);

describe('fuzz: fwknop command cycle templating (src/core/spa/fwknop-cmd-cycle.ts)', () => {
  it('fwknop-cmd-cycle', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'fwknop-cmd-cycle',
      kind: 'text',
      maxBytes: 1_024,
      seeds: SEEDS,
      dictionary: [
        '$IP',
        '$SRC',
        '$PKT_SRC',
        '$DST',
        '$PORT',
        '$PROTO',
        '$TIMEOUT',
        '$CLIENT_TIMEOUT',
        '$',
        '\x00',
        ' ',
        '\t',
        ';',
        '`',
        '$(',
        '::',
        '.',
        '1e3',
        'NaN',
        '-1',
      ],
      check,
    });
  });
});
