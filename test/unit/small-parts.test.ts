/**
 * Covers the small pure modules:
 *   src/core/command-template.ts   checkTemplateArg, expandTemplate (placeholders, {{ }}, argv safety)
 *   src/core/duration.ts           parseDurationMs, formatDurationMs
 *   src/core/endpoint.ts           parseEndpoint (incl. knockd's "8000:udp"), formatEndpoint, endpointKey
 *   src/core/tcp-flags.ts          parseTcpFlags, tcpFlagsMatch
 *   src/core/one-time-sequences.ts parseOneTimeSequences (comments, used lines, byte offsets, errors)
 *   src/core/capture-filter.ts     knockCaptureFilter
 *   src/gates/nftables-ruleset.ts  installBatch, setGrantCommands, grantsFromListing
 * Properties state their invariant in the first line of their description.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkTemplateArg,
  expandTemplate,
  PLACEHOLDERS,
  type PlaceholderValues,
} from '../../src/core/command-template.js';
import { formatDurationMs, parseDurationMs } from '../../src/core/duration.js';
import { endpointKey, formatEndpoint, parseEndpoint, type Endpoint, type Protocol } from '../../src/core/endpoint.js';
import { parseTcpFlags, tcpFlagsMatch, TCP_FLAG_BITS } from '../../src/core/tcp-flags.js';
import { parseOneTimeSequenceBytes, parseOneTimeSequences } from '../../src/core/one-time-sequences.js';
import { knockCaptureFilter } from '../../src/core/capture-filter.js';
import {
  grantsFromListing,
  installBatch,
  setGrantCommands,
  type NftCommand,
} from '../../src/gates/nftables-ruleset.js';
import { MAX_ONE_TIME_SEQUENCE_LINES, MAX_SEQUENCE_STEPS } from '../../src/core/limits.js';
import { HmacKey, type HmacAlgorithm } from '../../src/core/hmac.js';
import { createHmac } from 'node:crypto';

const tcp = (port: number): Endpoint => ({ proto: 'tcp', port });
const udp = (port: number): Endpoint => ({ proto: 'udp', port });
const endpointArb: fc.Arbitrary<Endpoint> = fc
  .tuple(fc.constantFrom<Protocol>('tcp', 'udp'), fc.integer({ min: 1, max: 65535 }))
  .map(([proto, port]) => ({ proto, port }));

// ---------------------------------------------------------------------------------------------

describe('hmac', () => {
  it('property: HmacKey gives the bytes of createHmac, for every algorithm, key length (also above one block) and split of the message', () => {
    const algorithms: HmacAlgorithm[] = ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512'];
    fc.assert(
      fc.property(
        fc.constantFrom(...algorithms),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 4 }),
        (algorithm, key, parts) => {
          const expected = createHmac(algorithm, key);
          for (const p of parts) expected.update(p);
          assert.deepEqual(new HmacKey(algorithm, key).mac(...parts), expected.digest());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a message larger than the scratch buffer still gives the right MAC', () => {
    const key = Buffer.alloc(32, 7);
    const big = Buffer.alloc(100_000, 0xa5);
    assert.deepEqual(new HmacKey('sha256', key).mac(big), createHmac('sha256', key).update(big).digest());
  });
});

describe('command-template', () => {
  const values: PlaceholderValues = {
    ip: '198.51.100.7',
    door: 'ssh',
    family: '4',
    duration: '30',
    ports: '22/tcp,443/tcp',
  };

  it('checkTemplateArg accepts known placeholders, literal braces and plain text', () => {
    for (const arg of [
      '/usr/bin/logger',
      '{ip}',
      'open {ports} for {ip}/{family} on {door} ({duration}s)',
      '{{ip}}',
      '{{',
      '}}',
      'a{{b}}c',
      '',
    ]) {
      assert.equal(checkTemplateArg(arg), null, arg);
    }
  });

  it('checkTemplateArg reports unknown placeholders and unbalanced braces', () => {
    assert.match(checkTemplateArg('{ipp}') ?? '', /unknown placeholder \{ipp\}/);
    assert.match(checkTemplateArg('ok {ip} then {bogus}') ?? '', /unknown placeholder \{bogus\}/);
    for (const arg of ['{', '}', '{ip', 'ip}', '{IP}', '{ ip }', '{{ip}', '{1}']) {
      assert.match(checkTemplateArg(arg) ?? '', /unbalanced brace|unknown placeholder/, arg);
    }
  });

  it('expandTemplate replaces placeholders and turns {{ and }} into literal braces', () => {
    assert.deepEqual(
      expandTemplate(['/usr/bin/logger', 'opened {ports} for {ip} (IPv{family}) on {door} for {duration}s'], values),
      ['/usr/bin/logger', 'opened 22/tcp,443/tcp for 198.51.100.7 (IPv4) on ssh for 30s'],
    );
    assert.deepEqual(expandTemplate(['{{ip}}', '{{{ip}}}', 'x}}y{{z', '{ip}{ip}'], values), [
      '{ip}',
      '{198.51.100.7}',
      'x}y{z',
      '198.51.100.7198.51.100.7',
    ]);
  });

  it('values with shell metacharacters or $-patterns stay one argv element, verbatim', () => {
    const nasty: PlaceholderValues = {
      ip: '; rm -rf /',
      door: "$(reboot) `id` $& $1 $$ $'",
      family: '"a b"',
      duration: '\n',
      ports: '* ? | > <',
    };
    const out = expandTemplate(['/bin/echo', '{ip}', 'x{door}y', '{family}', '{duration}', '{ports}'], nasty);
    assert.deepEqual(out, ['/bin/echo', '; rm -rf /', "x$(reboot) `id` $& $1 $$ $'y", '"a b"', '\n', '* ? | > <']);
  });

  it('a value that looks like a placeholder is not expanded again', () => {
    assert.deepEqual(expandTemplate(['{ip} {door}'], { ...values, ip: '{door}' }), ['{door} ssh']);
  });

  it('property: expanding an argv of literal text (braces doubled) returns the text unchanged, element for element', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 6 }), (texts) => {
        const argv = texts.map((t) => t.replace(/\{/g, '{{').replace(/\}/g, '}}'));
        for (const a of argv) assert.equal(checkTemplateArg(a), null);
        assert.deepEqual(expandTemplate(argv, values), texts);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a placeholder-only argument expands to exactly its value for any value string', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLACEHOLDERS), fc.string({ unit: 'binary' }), (name, value) => {
        const vals = { ...values, [name]: value };
        assert.deepEqual(expandTemplate([`{${name}}`], vals), [value]);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('duration', () => {
  it('parses whole numbers with a unit', () => {
    const cases: [string, number][] = [
      ['500ms', 500],
      ['10s', 10_000],
      ['2m', 120_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['0s', 0],
      [' 10s ', 10_000],
      ['10 s', 10_000],
      ['999999999ms', 999_999_999],
    ];
    for (const [text, ms] of cases) assert.equal(parseDurationMs(text), ms, text);
  });

  it('refuses bare numbers, fractions, signs, unknown or upper-case units and non-strings', () => {
    for (const v of [
      30,
      '30',
      '1.5s',
      '-1s',
      '+1s',
      '10S',
      '10sec',
      '1w',
      's',
      '',
      '1000000000ms',
      null,
      undefined,
      {},
      ['1s'],
    ]) {
      const r = parseDurationMs(v);
      assert.equal(typeof r, 'object', JSON.stringify(v));
      assert.match((r as { error: string }).error, /unit/);
    }
  });

  it('formats with the largest whole unit up to hours', () => {
    assert.equal(formatDurationMs(3_600_000), '1h');
    assert.equal(formatDurationMs(86_400_000), '24h');
    assert.equal(formatDurationMs(60_000), '1m');
    assert.equal(formatDurationMs(90_000), '90s');
    assert.equal(formatDurationMs(1_000), '1s');
    assert.equal(formatDurationMs(1_500), '1500ms');
    assert.equal(formatDurationMs(0), '0s');
  });

  it('property: parseDurationMs(formatDurationMs(ms)) === ms for every whole ms count up to 999,999,999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (ms) => {
        assert.equal(parseDurationMs(formatDurationMs(ms)), ms);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('endpoint', () => {
  it('parses numbers and the /, : and case-insensitive protocol notations', () => {
    assert.deepEqual(parseEndpoint(22), tcp(22));
    assert.deepEqual(parseEndpoint('22'), tcp(22));
    assert.deepEqual(parseEndpoint('22/tcp'), tcp(22));
    assert.deepEqual(parseEndpoint('7000/udp'), udp(7000));
    assert.deepEqual(parseEndpoint('7000/UDP'), udp(7000));
    assert.deepEqual(parseEndpoint('8000:udp'), udp(8000));
    assert.deepEqual(parseEndpoint('8000:tcp'), tcp(8000));
    assert.deepEqual(parseEndpoint(' 443 '), tcp(443));
    assert.deepEqual(parseEndpoint('1'), tcp(1));
    assert.deepEqual(parseEndpoint(65535), tcp(65535));
  });

  it('refuses out-of-range, fractional, other protocols and non-port values', () => {
    for (const v of [
      0,
      65536,
      70000,
      -1,
      22.5,
      Number.NaN,
      '0',
      '65536',
      '99999',
      '123456',
      '22/icmp',
      '22/',
      '/22',
      'abc',
      '22 /udp',
      '22/tcp/udp',
      '',
      null,
      undefined,
      true,
      {},
      [22],
    ]) {
      assert.ok('error' in (parseEndpoint(v) as object), JSON.stringify(v));
    }
  });

  it('formatEndpoint writes port/proto; endpointKey tells tcp and udp apart', () => {
    assert.equal(formatEndpoint(udp(53)), '53/udp');
    assert.notEqual(endpointKey('tcp', 53), endpointKey('udp', 53));
  });

  it('property: parseEndpoint(formatEndpoint(e)) and the knockd form round-trip, and endpointKey is injective', () => {
    fc.assert(
      fc.property(endpointArb, endpointArb, (e, f) => {
        assert.deepEqual(parseEndpoint(formatEndpoint(e)), e);
        assert.deepEqual(parseEndpoint(`${e.port}:${e.proto.toUpperCase()}`), e);
        assert.equal(
          endpointKey(e.proto, e.port) === endpointKey(f.proto, f.port),
          e.proto === f.proto && e.port === f.port,
        );
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('tcp-flags', () => {
  it('compiles syn,!ack to mask/value and canonical text', () => {
    assert.deepEqual(parseTcpFlags('syn,!ack'), { mask: 0x12, value: 0x02, text: 'syn,!ack' });
    assert.deepEqual(parseTcpFlags(' SYN , !Ack '), { mask: 0x12, value: 0x02, text: 'syn,!ack' });
    assert.deepEqual(parseTcpFlags('fin,syn,rst,psh,ack,urg,ece,cwr'), {
      mask: 0xff,
      value: 0xff,
      text: 'fin,syn,rst,psh,ack,urg,ece,cwr',
    });
    assert.deepEqual(parseTcpFlags('!rst'), { mask: 0x04, value: 0, text: '!rst' });
  });

  it('reports unknown, repeated and missing flags', () => {
    assert.match((parseTcpFlags('syn,bogus') as { error: string }).error, /unknown TCP flag "bogus"/);
    assert.match((parseTcpFlags('syn,syn') as { error: string }).error, /twice/);
    assert.match((parseTcpFlags('syn,!syn') as { error: string }).error, /twice/);
    assert.ok('error' in parseTcpFlags(''));
    assert.ok('error' in parseTcpFlags(' , '));
    assert.ok('error' in parseTcpFlags('!'));
  });

  it('syn,!ack matches SYN and SYN+ECE+CWR, not SYN+ACK, RST or an empty flags byte', () => {
    const c = parseTcpFlags('syn,!ack');
    assert.ok(!('error' in c));
    assert.equal(tcpFlagsMatch(0x02, c), true);
    assert.equal(tcpFlagsMatch(0xc2, c), true);
    assert.equal(tcpFlagsMatch(0x12, c), false);
    assert.equal(tcpFlagsMatch(0x04, c), false);
    assert.equal(tcpFlagsMatch(0x00, c), false);
  });

  it('property: a compiled condition matches a flags byte exactly when every named flag is set and every !flag is clear', () => {
    const names = Object.keys(TCP_FLAG_BITS);
    fc.assert(
      fc.property(
        fc.subarray(names, { minLength: 1 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 255 }),
        (chosen, negs, flags) => {
          const text = chosen.map((n, i) => (negs[i] ? `!${n}` : n)).join(',');
          const c = parseTcpFlags(text);
          assert.ok(!('error' in c), text);
          assert.equal(c.text, text);
          const expected = chosen.every((n, i) => ((flags & (TCP_FLAG_BITS[n] as number)) !== 0) !== negs[i]);
          assert.equal(tcpFlagsMatch(flags, c), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('one-time-sequences', () => {
  it('bytes: valid UTF-8 (a literal U+FFFD in a comment too) parses; a bad byte is refused at its line; a BOM is not dropped', () => {
    const ok = parseOneTimeSequenceBytes(Buffer.from('# r\u00e9serv\u00e9 \ufffd\n7000,8000\n'));
    assert.deepEqual(ok.ok && ok.unused.map((u) => [u.line, u.offset]), [
      [2, Buffer.byteLength('# r\u00e9serv\u00e9 \ufffd\n')],
    ]);
    const bad = parseOneTimeSequenceBytes(
      Uint8Array.from([...Buffer.from('7000\n8000\n# caf'), 0xe9, ...Buffer.from('\n9000\n')]),
    );
    assert.deepEqual(bad.ok ? 'ok' : bad.line, 3);
    const bom = parseOneTimeSequenceBytes(Buffer.from('\ufeff7000,8000\n'));
    assert.deepEqual(bom.ok ? 'ok' : bom.line, 1);
  });

  it(`at most MAX_ONE_TIME_SEQUENCE_LINES (${MAX_ONE_TIME_SEQUENCE_LINES}) lines, used ones included; the next one is an error at its line`, () => {
    const full = `${'#000,8000\n'.repeat(MAX_ONE_TIME_SEQUENCE_LINES - 1)}7000,8000\n`;
    const atLimit = parseOneTimeSequences(full);
    assert.deepEqual(atLimit.ok && atLimit.unused.map((u) => u.line), [MAX_ONE_TIME_SEQUENCE_LINES]);
    const over = parseOneTimeSequences(`${full}7001,8001\n`);
    assert.deepEqual(over.ok ? 'ok' : [over.line, over.error], [
      MAX_ONE_TIME_SEQUENCE_LINES + 1,
      `a one-time sequence file has at most ${MAX_ONE_TIME_SEQUENCE_LINES} lines`,
    ]);
  });

  it('parses lines of steps separated by commas or spaces; skips blank, comment and used lines', () => {
    const text = [
      '# my sequences',
      '7000,8000/udp,9000',
      '',
      '#000 8001 9001   (used)',
      '7002 8002:udp  9002',
      '   ',
      '7003, 8003',
    ].join('\n');
    const r = parseOneTimeSequences(text);
    assert.ok(r.ok);
    assert.deepEqual(
      r.unused.map((s) => [s.line, s.steps]),
      [
        [2, [tcp(7000), udp(8000), tcp(9000)]],
        [5, [tcp(7002), udp(8002), tcp(9002)]],
        [7, [tcp(7003), tcp(8003)]],
      ],
    );
  });

  it('offsets are byte offsets of line starts, including after multi-byte UTF-8 and CRLF', () => {
    const l1 = '# café ☃ 🔑 sequences';
    const text = `${l1}\n7000,8000\r\n# déjà\r\n9000 9001\n`;
    const r = parseOneTimeSequences(text);
    assert.ok(r.ok);
    const buf = Buffer.from(text, 'utf8');
    const expected1 = Buffer.byteLength(l1) + 1;
    const expected2 = expected1 + Buffer.byteLength('7000,8000\r\n# déjà\r\n');
    assert.deepEqual(
      r.unused.map((s) => s.offset),
      [expected1, expected2],
    );
    assert.notEqual(expected1, l1.length + 1, 'the test needs a multi-byte line');
    assert.equal(buf.subarray(expected1, expected1 + 4).toString(), '7000');
    assert.equal(buf.subarray(expected2, expected2 + 4).toString(), '9000');
    assert.deepEqual(r.unused[0]?.steps, [tcp(7000), tcp(8000)]);
  });

  it('reports the first bad line with its 1-based line number', () => {
    const r = parseOneTimeSequences('# c\n7000,8000\n\n7000,70000\nabc\n');
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.line, 4);
    assert.match(r.error, /70000/);
    const r2 = parseOneTimeSequences('7000/icmp');
    assert.ok(!r2.ok);
    assert.equal(r2.line, 1);
  });

  it('refuses a line with more than the maximum number of steps', () => {
    const ok = Array.from({ length: MAX_SEQUENCE_STEPS }, (_, i) => 1000 + i).join(',');
    const tooLong = Array.from({ length: MAX_SEQUENCE_STEPS + 1 }, (_, i) => 1000 + i).join(',');
    assert.equal(parseOneTimeSequences(ok).ok, true);
    const r = parseOneTimeSequences(`${ok}\n${tooLong}\n`);
    assert.ok(!r.ok);
    assert.equal(r.line, 2);
  });

  it('an empty file, or one with only comments, has no unused sequences', () => {
    assert.deepEqual(parseOneTimeSequences(''), { ok: true, unused: [] });
    assert.deepEqual(parseOneTimeSequences('# a\n#b\n\n'), { ok: true, unused: [] });
  });

  it("property: every unused sequence's offset points, in the UTF-8 bytes, at the start of its line, and used lines are never returned", () => {
    const comment = fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => `#${s.replace(/[\r\n]/g, '')}`);
    const seqLine = fc.array(endpointArb, { minLength: 1, maxLength: 5 }).chain((eps) =>
      fc.constantFrom(', ', ' ', ',').map((sep) => ({
        eps,
        text: eps.map((e) => (e.proto === 'udp' ? formatEndpoint(e) : String(e.port))).join(sep),
      })),
    );
    const lineArb = fc.oneof(
      comment.map((text) => ({ eps: null as Endpoint[] | null, text })),
      fc.constant({ eps: null as Endpoint[] | null, text: '' }),
      seqLine,
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(lineArb, fc.boolean()), { maxLength: 15 }), (ls) => {
        const text = ls.map(([l, crlf]) => l.text + (crlf ? '\r' : '')).join('\n');
        const r = parseOneTimeSequences(text);
        assert.ok(r.ok);
        const expected = ls.flatMap(([l], i) => (l.eps === null ? [] : [{ line: i + 1, steps: l.eps }]));
        assert.deepEqual(
          r.unused.map((s) => ({ line: s.line, steps: s.steps })),
          expected,
        );
        const buf = Buffer.from(text, 'utf8');
        for (const s of r.unused) {
          const lineText = (ls[s.line - 1] as [{ text: string }, boolean])[0].text;
          assert.equal(buf.subarray(s.offset, s.offset + Buffer.byteLength(lineText)).toString('utf8'), lineText);
          assert.ok(s.offset === 0 || buf[s.offset - 1] === 0x0a);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('capture-filter', () => {
  it('lists each unique port once, sorted, parenthesised, joined by or', () => {
    assert.equal(
      knockCaptureFilter([tcp(2000), udp(7000), tcp(1000), tcp(2000), udp(7000)]),
      '((tcp dst port 1000) or (tcp dst port 2000) or (udp dst port 7000))',
    );
    assert.equal(knockCaptureFilter([tcp(22)]), '((tcp dst port 22))');
  });

  it('the same number over tcp and udp is two alternatives', () => {
    assert.equal(knockCaptureFilter([udp(53), tcp(53)]), '((tcp dst port 53) or (udp dst port 53))');
  });

  it('prefixes ether dst only for a valid MAC', () => {
    assert.equal(
      knockCaptureFilter([tcp(1000)], '02:00:5e:10:00:01'),
      'ether dst 02:00:5e:10:00:01 and ((tcp dst port 1000))',
    );
    for (const bad of [
      '',
      'zz:00:5e:10:00:01',
      '02:00:5e:10:00',
      '02:00:5e:10:00:01:02',
      '02-00-5e-10-00-01',
      '02:00:5e:10:00:01 or 1=1',
      ' 02:00:5e:10:00:01',
    ]) {
      assert.equal(knockCaptureFilter([tcp(1000)], bad), '((tcp dst port 1000))', JSON.stringify(bad));
    }
  });

  it('an empty step list gives a filter that matches nothing, with or without a MAC', () => {
    assert.equal(knockCaptureFilter([]), 'less 0');
    assert.equal(knockCaptureFilter([], '02:00:5e:10:00:01'), 'less 0');
    assert.doesNotMatch(knockCaptureFilter([]), /dst port/);
  });

  it('property: the filter names each unique endpoint exactly once and nothing else', () => {
    fc.assert(
      fc.property(fc.array(endpointArb, { minLength: 1, maxLength: 40 }), (eps) => {
        const f = knockCaptureFilter(eps);
        const found = [...f.matchAll(/\((tcp|udp) dst port (\d+)\)/g)].map((m) => `${m[2]}/${m[1]}`);
        const unique = new Set(eps.map(formatEndpoint));
        assert.equal(found.length, unique.size);
        assert.deepEqual(new Set(found), unique);
        assert.ok(f.startsWith('(') && f.endsWith(')'));
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('nftables-ruleset', () => {
  const layout = {
    protectedPorts: [tcp(22), tcp(443), tcp(22), udp(51820)],
    hiddenPorts: [tcp(5643), udp(7000)],
    untrackedUdpPorts: [] as number[],
    exemptInterfaces: [] as string[],
  };
  const TABLE = 'knockgate';
  const T = { family: 'inet', table: TABLE };

  /** The single top-level verb and object of a command. */
  const shape = (c: NftCommand): string => {
    const verb = Object.keys(c)[0] as string;
    const obj = Object.keys(c[verb] as object)[0] as string;
    return `${verb} ${obj}`;
  };
  const rules = (cmds: NftCommand[]): unknown[][] =>
    cmds
      .filter((c) => shape(c) === 'add rule' && (c.add as { rule: { chain: string } }).rule.chain === 'input')
      .map((c) => (c.add as { rule: { expr: unknown[] } }).rule.expr);

  it('starts by adding the table, then declares sets, flushes protected/hidden, and fills them', () => {
    const cmds = installBatch(TABLE, layout, []);
    assert.deepEqual(cmds[0], {
      add: { table: { family: 'inet', name: TABLE, comment: 'knockgate: managed by knockgated; do not edit' } },
    });
    const idx = (pred: (c: NftCommand) => boolean): number => cmds.findIndex(pred);
    const flushProtected = idx(
      (c) => JSON.stringify(c) === JSON.stringify({ flush: { set: { ...T, name: 'protected' } } }),
    );
    const flushHidden = idx((c) => JSON.stringify(c) === JSON.stringify({ flush: { set: { ...T, name: 'hidden' } } }));
    const fillProtected = idx(
      (c) => shape(c) === 'add element' && (c.add as { element: { name: string } }).element.name === 'protected',
    );
    const fillHidden = idx(
      (c) => shape(c) === 'add element' && (c.add as { element: { name: string } }).element.name === 'hidden',
    );
    const addSet = (name: string): number =>
      idx((c) => shape(c) === 'add set' && (c.add as { set: { name: string } }).set.name === name);
    for (const i of [flushProtected, flushHidden, fillProtected, fillHidden, addSet('grants4'), addSet('grants6')])
      assert.ok(i > 0);
    assert.ok(addSet('protected') < flushProtected && flushProtected < fillProtected);
    assert.ok(addSet('hidden') < flushHidden && flushHidden < fillHidden);
    // Duplicates collapse; each element is proto . port.
    assert.deepEqual((cmds[fillProtected]!.add as { element: unknown }).element, {
      ...T,
      name: 'protected',
      elem: [{ concat: ['tcp', 22] }, { concat: ['tcp', 443] }, { concat: ['udp', 51820] }],
    });
    assert.deepEqual((cmds[fillHidden]!.add as { element: { elem: unknown } }).element.elem, [
      { concat: ['tcp', 5643] },
      { concat: ['udp', 7000] },
    ]);
    // Grant sets are never flushed: existing grants survive a reload.
    assert.equal(cmds.filter((c) => shape(c) === 'flush set' && /grants/.test(JSON.stringify(c))).length, 0);
    // The chain hooks input before the filter priority and is flushed before the rules are added.
    const chain = idx((c) => shape(c) === 'add chain');
    assert.deepEqual((cmds[chain]!.add as { chain: unknown }).chain, {
      ...T,
      name: 'input',
      type: 'filter',
      hook: 'input',
      prio: -10,
      policy: 'accept',
    });
    const flushChain = idx((c) => shape(c) === 'flush chain');
    assert.ok(chain < flushChain && flushChain < idx((c) => shape(c) === 'add rule'));
  });

  it('SPA socket ports and hidden knock ports are kept out of connection tracking by raw-priority prerouting rules', () => {
    const cmds = installBatch(TABLE, { ...layout, untrackedUdpPorts: [62201, 62201, 62202] }, []);
    const chain = cmds.find(
      (c) => shape(c) === 'add chain' && (c.add as { chain: { name: string } }).chain.name === 'prerouting',
    );
    assert.deepEqual((chain!.add as { chain: unknown }).chain, {
      ...T,
      name: 'prerouting',
      type: 'filter',
      hook: 'prerouting',
      prio: -300,
      policy: 'accept',
    });
    const fill = cmds.find(
      (c) => shape(c) === 'add element' && (c.add as { element: { name: string } }).element.name === 'untracked',
    );
    assert.deepEqual((fill!.add as { element: { elem: unknown } }).element.elem, [62201, 62202]);
    const raw = cmds.filter(
      (c) => shape(c) === 'add rule' && (c.add as { rule: { chain: string } }).rule.chain === 'prerouting',
    );
    assert.deepEqual(
      raw.map((c) => (c.add as { rule: { expr: unknown } }).rule.expr),
      [
        [
          { match: { op: '==', left: { payload: { protocol: 'udp', field: 'dport' } }, right: '@untracked' } },
          { notrack: null },
        ],
        [
          { match: { op: '!=', left: { meta: { key: 'iifname' } }, right: 'lo' } },
          {
            match: {
              op: '==',
              left: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] },
              right: '@hidden',
            },
          },
          { notrack: null },
        ],
      ],
    );
  });

  it('empty protected/hidden lists flush the sets and add no elements', () => {
    const cmds = installBatch(
      TABLE,
      { protectedPorts: [], hiddenPorts: [], untrackedUdpPorts: [], exemptInterfaces: [] },
      [],
    );
    assert.equal(cmds.filter((c) => shape(c) === 'add element').length, 0);
    // protected, hidden, untracked, forwarded
    assert.equal(cmds.filter((c) => shape(c) === 'flush set').length, 4);
  });

  it('deletes stale grants from the set of their family', () => {
    const stale = [
      { source: '198.51.100.7', family: 4 as const, endpoint: tcp(8080), expiresInS: 10 },
      { source: '2001:db8::7', family: 6 as const, endpoint: udp(51821), expiresInS: 3 },
    ];
    const deletes = installBatch(TABLE, layout, stale).filter((c) => shape(c) === 'delete element');
    assert.deepEqual(deletes, [
      { delete: { element: { ...T, name: 'grants4', elem: [{ concat: ['198.51.100.7', 'tcp', 8080] }] } } },
      { delete: { element: { ...T, name: 'grants6', elem: [{ concat: ['2001:db8::7', 'udp', 51821] }] } } },
    ]);
  });

  it('rules in order: established accept, grants4 accept, grants6 accept, protected drop, hidden drop', () => {
    const r = rules(installBatch(TABLE, layout, []));
    const iif = { match: { op: '!=', left: { meta: { key: 'iifname' } }, right: 'lo' } };
    const l4 = { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] };
    const grant = (proto: string, set: string): unknown => ({
      match: {
        op: '==',
        left: {
          concat: [
            { payload: { protocol: proto, field: 'saddr' } },
            { meta: { key: 'l4proto' } },
            { payload: { protocol: 'th', field: 'dport' } },
          ],
        },
        right: set,
      },
    });
    assert.deepEqual(r, [
      [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }],
      [grant('ip', '@grants4'), { accept: null }],
      [grant('ip6', '@grants6'), { accept: null }],
      [iif, { match: { op: '==', left: l4, right: '@protected' } }, { counter: null }, { drop: null }],
      [iif, { match: { op: '==', left: l4, right: '@hidden' } }, { counter: null }, { drop: null }],
    ]);
    for (const c of installBatch(TABLE, layout, []).filter(
      (x) =>
        shape(x) === 'add rule' &&
        !['prerouting', 'forward_gate'].includes((x.add as { rule: { chain: string } }).rule.chain),
    )) {
      assert.equal((c.add as { rule: { chain: string; table: string } }).rule.chain, 'input');
      assert.equal((c.add as { rule: { chain: string; table: string } }).rule.table, TABLE);
    }
  });

  it('drops on every interface but lo and the explicit exemptions, whatever interfaces: says', () => {
    const exempt = rules(installBatch(TABLE, { ...layout, exemptInterfaces: ['wg0', 'lo', 'wg0'] }, []));
    for (const r of exempt.slice(3))
      assert.deepEqual(r[0], {
        match: { op: '!=', left: { meta: { key: 'iifname' } }, right: { set: ['lo', 'wg0'] } },
      });
    const allRules = installBatch(TABLE, layout, []).filter((c) => shape(c) === 'add rule');
    assert.ok(
      !JSON.stringify(allRules).includes('"op":"=="' + ',"left":{"meta":{"key":"iifname"}}'),
      'no rule is scoped to a named interface',
    );
  });

  it('uses the given table name everywhere', () => {
    const cmds = installBatch('kg2', layout, [{ source: '192.0.2.1', family: 4, endpoint: tcp(1), expiresInS: 1 }]);
    const tables = new Set<string>();
    const walk = (v: unknown): void => {
      if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'table' && typeof x === 'string') tables.add(x);
          walk(x);
        }
      }
    };
    cmds.slice(1).forEach(walk);
    assert.deepEqual([...tables], ['kg2']);
    assert.equal((cmds[0]!.add as { table: { name: string } }).table.name, 'kg2');
  });

  it("setGrantCommands: add, delete, add with the timeout, in the family's set", () => {
    const val = { concat: ['2001:db8::7', 'tcp', 22] };
    const t6 = { family: 'inet', table: TABLE, name: 'grants6' };
    assert.deepEqual(setGrantCommands(TABLE, '2001:db8::7', 6, tcp(22), 30), [
      { add: { element: { ...t6, elem: [{ elem: { val, timeout: 30 } }] } } },
      { delete: { element: { ...t6, elem: [val] } } },
      { add: { element: { ...t6, elem: [{ elem: { val, timeout: 30 } }] } } },
    ]);
    const v4 = setGrantCommands(TABLE, '198.51.100.7', 4, udp(53), 86400);
    assert.equal((v4[0]!.add as { element: { name: string } }).element.name, 'grants4');
    assert.deepEqual((v4[2]!.add as { element: { elem: unknown } }).element.elem, [
      { elem: { val: { concat: ['198.51.100.7', 'udp', 53] }, timeout: 86400 } },
    ]);
  });

  it('setGrantCommands for an element known not to exist: a single add', () => {
    const t4 = { family: 'inet', table: TABLE, name: 'grants4' };
    assert.deepEqual(setGrantCommands(TABLE, '198.51.100.7', 4, tcp(22), 30, false), [
      { add: { element: { ...t4, elem: [{ elem: { val: { concat: ['198.51.100.7', 'tcp', 22] }, timeout: 30 } }] } } },
    ]);
  });

  it('grantsFromListing reads grants out of `nft -j list table` output', () => {
    const listing = {
      nftables: [
        { metainfo: {} },
        { table: { family: 'inet', name: 'knockgate', handle: 1 } },
        {
          set: {
            family: 'inet',
            name: 'grants4',
            table: 'knockgate',
            type: ['ipv4_addr', 'inet_proto', 'inet_service'],
            handle: 1,
            flags: ['interval', 'timeout'],
            elem: [{ elem: { val: { concat: ['198.18.1.2', 'tcp', 22] }, timeout: 30, expires: 29 } }],
          },
        },
        {
          set: {
            family: 'inet',
            name: 'grants6',
            table: 'knockgate',
            type: ['ipv6_addr', 'inet_proto', 'inet_service'],
            handle: 2,
            flags: ['interval', 'timeout'],
            elem: [
              { elem: { val: { concat: ['2001:db8::1', 'udp', 51820] }, timeout: 60, expires: 12 } },
              { elem: { val: { concat: ['2001:db8::2', 'tcp', 443] }, timeout: 60 } },
              {
                elem: {
                  val: { concat: [{ prefix: { addr: '2001:db8:5::', len: 64 } }, 'tcp', 22] },
                  timeout: 60,
                  expires: 40,
                },
              },
            ],
          },
        },
        {
          set: {
            family: 'inet',
            name: 'protected',
            table: 'knockgate',
            type: ['inet_proto', 'inet_service'],
            elem: [{ concat: ['tcp', 22] }],
          },
        },
      ],
    };
    assert.deepEqual(grantsFromListing(listing), [
      { source: '198.18.1.2', family: 4, endpoint: { proto: 'tcp', port: 22 }, expiresInS: 29 },
      { source: '2001:db8::1', family: 6, endpoint: { proto: 'udp', port: 51820 }, expiresInS: 12 },
      { source: '2001:db8::2', family: 6, endpoint: { proto: 'tcp', port: 443 }, expiresInS: 0 },
      { source: '2001:db8:5::/64', family: 6, endpoint: { proto: 'tcp', port: 22 }, expiresInS: 40 },
    ]);
    // And back: a prefix source becomes a prefix element again.
    const cmds = setGrantCommands('knockgate', '198.51.100.0/24', 4, { proto: 'tcp', port: 22 }, 30);
    assert.deepEqual((cmds[2]!.add as { element: { elem: unknown } }).element.elem, [
      { elem: { val: { concat: [{ prefix: { addr: '198.51.100.0', len: 24 } }, 'tcp', 22] }, timeout: 30 } },
    ]);
  });

  it('grantsFromListing skips malformed entries and odd shapes', () => {
    const good = { elem: { val: { concat: ['198.18.1.2', 'tcp', 22] }, expires: 5 } };
    const listing = {
      nftables: [
        { set: { name: 'grants4', elem: 'not an array' } },
        { set: { name: 'other', elem: [good] } },
        { set: { name: 'grants4' } },
        { rule: {} },
        'a string',
        42,
        {
          set: {
            name: 'grants4',
            elem: [
              { elem: { val: { concat: ['198.18.1.2', 'icmp', 22] } } },
              { elem: { val: { concat: ['198.18.1.2', 'tcp', '22'] } } },
              { elem: { val: { concat: [7, 'tcp', 22] } } },
              { elem: { val: { concat: ['198.18.1.2', 'tcp'] } } },
              { elem: { val: { concat: ['198.18.1.2', 'tcp', 22, 1] } } },
              { elem: { val: 'x' } },
              { elem: {} },
              { concat: ['198.18.1.2', 'tcp', 22] },
              5,
              'x',
              good,
            ],
          },
        },
      ],
    };
    assert.deepEqual(grantsFromListing(listing), [
      { source: '198.18.1.2', family: 4, endpoint: tcp(22), expiresInS: 5 },
    ]);
    for (const odd of [null, undefined, 5, 'x', {}, { nftables: null }, { nftables: {} }, []])
      assert.deepEqual(grantsFromListing(odd), []);
  });

  it('grantsFromListing skips null entries', () => {
    assert.deepEqual(grantsFromListing({ nftables: [null] }), []);
    assert.deepEqual(grantsFromListing({ nftables: [{ set: { name: 'grants4', elem: [null] } }] }), []);
  });
});
