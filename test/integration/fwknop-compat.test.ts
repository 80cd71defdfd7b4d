/**
 * Drop-in for fwknop users, with the real peers: Debian's fwknop client (2.6.10) opens a port
 * through knockgated for every HMAC type and every Rijndael mode (-M) fwknop offers; a captured fwknop packet sent again is
 * rejected, also after a restart; wrong keys are rejected; a door can read fwknopd's own
 * access.conf unchanged.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { createTestbed } from '../support/netns.js';
import { KNOCKGATE, BUILD_ROOT, probe, sleep, writeConfig } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const SPA_TOOL = join(BUILD_ROOT, 'test', 'support', 'spa-tool.js');
const HMAC_TYPES = ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha3_256', 'sha3_512'] as const;
/** fwknop's other Rijndael modes (-M), one stanza each after the HMAC ones, with HMAC SHA-256. */
const MODES = ['cfb', 'ctr', 'ecb', 'ofb'] as const;

describe('fwknop compatibility', () => {
  const keys = HMAC_TYPES.map(() => ({
    key: randomBytes(32).toString('base64'),
    hmac: randomBytes(64).toString('base64'),
  }));
  const modeKeys = MODES.map(() => ({
    key: randomBytes(32).toString('base64'),
    hmac: randomBytes(64).toString('base64'),
  }));
  const s = useScenario({
    banner: [22, 2222],
    // fwknopd's own access.conf, one stanza per HMAC type (fwknopd tries them in order).
    files: () => ({
      'access.conf': keys
        .map((k, i) =>
          [
            `SOURCE ANY`,
            `OPEN_PORTS tcp/22`,
            `KEY_BASE64 ${k.key}`,
            `HMAC_KEY_BASE64 ${k.hmac}`,
            `HMAC_DIGEST_TYPE ${HMAC_TYPES[i]}`,
            `FW_ACCESS_TIMEOUT 4`,
            '',
          ].join('\n'),
        )
        .concat(
          modeKeys.map((k, i) =>
            [
              'SOURCE ANY',
              'OPEN_PORTS tcp/22',
              `KEY_BASE64 ${k.key}`,
              `HMAC_KEY_BASE64 ${k.hmac}`,
              `ENCRYPTION_MODE ${(MODES[i] as string).toUpperCase()}`,
              'FW_ACCESS_TIMEOUT 4',
              '',
            ].join('\n'),
          ),
        )
        .join('\n'),
    }),
    replayJournal: true,
    doors: () => [
      '  - name: fwknop',
      '    fwknop: { port: 62201, capture: pcap }',
      '    access_conf: access.conf',
      '    open: [22/tcp]',
      '    duration: 4s',
      // fwknop's stanzas can also live in knockgate's YAML: here a legacy-IV one without HMAC.
      '  - name: legacy',
      '    fwknop: { port: 62202, capture: socket }',
      '    open: [2222/tcp]',
      '    duration: 4s',
      '    stanzas:',
      '      - source: ANY',
      '        open_ports: [2222/tcp]',
      '        key: "shortpw"',
      '        encryption_mode: legacy',
    ],
  });
  const { tb, daemon } = s;

  /** The real fwknop client, from the client namespace, with the stanza's keys for HMAC type i. */
  const fwknop = (i: number, extra: string[] = [], key = keys[i]?.key, hmac = keys[i]?.hmac) =>
    tb.run(tb.client.ns, [
      'fwknop',
      '--no-rc-file',
      '--no-save-args',
      '-A',
      'tcp/22',
      '-a',
      tb.client.v4,
      '-D',
      tb.server.clientSide.v4,
      '--key-base64-rijndael',
      key as string,
      '--use-hmac',
      '--key-base64-hmac',
      hmac as string,
      '--hmac-digest-type',
      HMAC_TYPES[i] as string,
      ...extra,
    ]);

  for (let i = 0; i < HMAC_TYPES.length; i++) {
    it(`the real fwknop client opens the port (HMAC ${HMAC_TYPES[i]})`, async () => {
      const before = daemon.lines.length;
      fwknop(i);
      const line = await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
        5000,
        'the verdict',
      );
      assert.equal(line.verdict, 'accepted', JSON.stringify(line));
      await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.source === tb.client.v4,
        5000,
        'the grant',
      );
      assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
      assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    });
  }

  for (let i = 0; i < MODES.length; i++) {
    it(`the real fwknop client opens the port in ${MODES[i]} mode (-M ${MODES[i]}), through its own stanza`, async () => {
      const before = daemon.lines.length;
      const k = modeKeys[i] as { key: string; hmac: string };
      // HMAC SHA-256 (HMAC_TYPES[2]); -a again: another address than the HMAC tests', so the
      // grant below is this packet's (fwknop takes the last -a).
      fwknop(2, ['-a', tb.other.v4, '-M', MODES[i] as string], k.key, k.hmac);
      const line = await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
        5000,
        'the verdict',
      );
      assert.equal(line.verdict, 'accepted', JSON.stringify(line));
      assert.match(String(line.stanza), new RegExp(`stanza ${HMAC_TYPES.length + i + 1}$`));
      await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.source === tb.other.v4,
        5000,
        'the grant',
      );
      assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
    });
  }

  it('the real client in legacy IV mode without HMAC, with a SHA-512 inner digest, opens a YAML stanza door', async () => {
    const before = daemon.lines.length;
    tb.run(tb.client.ns, [
      'fwknop',
      '--no-rc-file',
      '--no-save-args',
      '-A',
      'tcp/2222',
      '-a',
      tb.client.v4,
      '-D',
      tb.server.clientSide.v4,
      '-p',
      '62202',
      '--key-rijndael',
      'shortpw',
      '-M',
      'legacy',
      '-m',
      'sha512',
    ]);
    const line = await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
      5000,
      'the verdict',
    );
    assert.equal(line.verdict, 'accepted', JSON.stringify(line));
    await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.door === 'legacy',
      5000,
      'the grant',
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
  });

  it('a client-timeout request (fwknop -f, message type 3) gets its own duration, capped by the door', async () => {
    for (const [asked, granted] of [
      [2, 2],
      [600, 4],
    ] as const) {
      const before = daemon.lines.length;
      fwknop(2, ['-f', String(asked)]);
      const grant = await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant',
        5000,
        `the grant for -f ${asked}`,
      );
      assert.equal(grant.duration_s, granted, JSON.stringify(grant));
    }
  });

  it('a captured fwknop packet sent again is rejected, also after a restart', async () => {
    const capture = tb.start(tb.server.ns, [process.execPath, SPA_TOOL, 'capture', '62201', '5000']);
    let out = '';
    capture.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('ready')) await sleep(20);
    fwknop(2);
    await new Promise((r) => capture.once('exit', r));
    const hex = out.split('\n')[1]?.trim() ?? '';
    assert.ok(hex.length > 200);
    await daemon.waitFor(
      (l) =>
        l.event === 'fwknop' &&
        l.verdict === 'accepted' &&
        daemon.lines.filter((x) => x.event === 'fwknop' && x.verdict === 'accepted').length ===
          HMAC_TYPES.length + MODES.length + 4,
      5000,
      'acceptance',
    );
    const replay = async (label: string): Promise<void> => {
      const before = daemon.lines.length;
      tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'send', tb.server.otherSide.v4, '62201', hex]);
      const line = await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
        5000,
        `the verdict ${label}`,
      );
      assert.equal(line.reason, 'fwknop-replayed', label);
    };
    await replay('right away');
    await s.restart('SIGKILL');
    await replay('after SIGKILL and a restart');
  });

  it('wrong keys are rejected', async () => {
    const before = daemon.lines.length;
    fwknop(2, [], randomBytes(32).toString('base64'), randomBytes(64).toString('base64'));
    const line = await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
      5000,
      'the verdict',
    );
    assert.equal(line.verdict, 'rejected');
    assert.equal(line.reason, 'fwknop-hmac');
    const right = keys[2] as { key: string; hmac: string };
    const before2 = daemon.lines.length;
    fwknop(2, [], randomBytes(32).toString('base64'), right.hmac);
    const line2 = await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before2 && l.event === 'fwknop',
      5000,
      'the verdict',
    );
    assert.equal(line2.verdict, 'rejected');
    assert.match(String(line2.reason), /^fwknop-(decrypt|digest|malformed)$/);
  });

  it('knock --fwknoprc sends what the rc stanza the real fwknop client saved says; a readable rc file is refused', async () => {
    const rc = s.path('fwknoprc');
    const k = keys[2] as { key: string; hmac: string }; // the SHA-256 stanza's keys
    // fwknop -n gw --save-rc-stanza: the rc file exactly as the fwknop client writes it.
    tb.run(tb.client.ns, [
      'fwknop',
      '--rc-file',
      rc,
      '-n',
      'gw',
      '-A',
      'tcp/22',
      '-a',
      tb.client.v4,
      '-D',
      tb.server.clientSide.v4,
      '--key-base64-rijndael',
      k.key,
      '--key-base64-hmac',
      k.hmac,
      '--use-hmac',
      '--save-rc-stanza',
      '--force-stanza',
      '--no-save-args',
      '-T',
    ]);
    await sleep(4200); // the HMAC tests' grants for this source run out (4 s)
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    const before = daemon.lines.length;
    // HOST names the stanza: its SPA_SERVER is knocked, its ACCESS and ALLOW_IP asked for.
    const out = tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', 'gw', '--fwknoprc', '--rc-file', rc, '-v']);
    assert.match(
      out,
      new RegExp(`fwknoprc stanza \\[gw\\]: SPA_SERVER ${tb.server.clientSide.v4.replace(/\./g, '\\.')}`),
    );
    const line = await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
      5000,
      'the verdict',
    );
    assert.equal(line.verdict, 'accepted', JSON.stringify(line));
    await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.source === tb.client.v4,
      5000,
      'the grant',
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');

    chmodSync(rc, 0o644);
    const r = spawnSync(
      'ip',
      ['netns', 'exec', tb.client.ns, process.execPath, KNOCKGATE, 'knock', 'gw', '--fwknoprc', '--rc-file', rc],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 78);
    assert.match(r.stderr, /holds keys but is readable by group or others \(mode 644\); chmod 600 it/);
  });

  it('a fwknop packet made by knockgate knock --fwknop, and by knock --fwknoprc from ~/.fwknoprc, opens the port through the real fwknopd', async () => {
    const bed = createTestbed({ serverClientIfname: 'eth0' });
    try {
      const d = dirname(writeConfig(''));
      const k = { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') };
      writeFileSync(join(d, 'fwknopd.conf'), 'PCAP_INTF eth0;\n', { mode: 0o600 });
      writeFileSync(
        join(d, 'access.conf'),
        `SOURCE ANY\nOPEN_PORTS tcp/22\nKEY_BASE64 ${k.key}\nHMAC_KEY_BASE64 ${k.hmac}\nREQUIRE_SOURCE_ADDRESS Y\nFW_ACCESS_TIMEOUT 30\n`,
        { mode: 0o600 },
      );
      writeFileSync(
        join(d, 'cred.yaml'),
        `kind: knockgate-fwknop-client-v1\nkey_base64: ${k.key}\nhmac_key_base64: ${k.hmac}\nport: 62201\nuser: root\n`,
        { mode: 0o600 },
      );
      bed.start(bed.server.ns, [
        'fwknopd',
        '-f',
        '-c',
        join(d, 'fwknopd.conf'),
        '-a',
        join(d, 'access.conf'),
        '-i',
        'eth0',
        '-p',
        join(d, 'pid'),
        '-d',
        join(d, 'digest.cache'),
        '-r',
        join(d, 'run'),
      ]);
      const rule = `-A FWKNOP_INPUT -s ${bed.client.v4}/32 -p tcp -m tcp --dport 22`;
      // fwknopd creates its chain when it starts; wait for it, then knock.
      for (let i = 0; i < 50 && !bed.run(bed.server.ns, ['iptables', '-S']).includes('-N FWKNOP_INPUT'); i++)
        await sleep(100);
      bed.run(bed.client.ns, [
        process.execPath,
        KNOCKGATE,
        'knock',
        '--fwknop',
        join(d, 'cred.yaml'),
        '--ports',
        '22/tcp',
        bed.server.clientSide.v4,
      ]);
      const ruleAppears = async (): Promise<string> => {
        let rules = '';
        for (let i = 0; i < 50 && !rules.includes(rule); i++, await sleep(100))
          rules = bed.run(bed.server.ns, ['iptables', '-S', 'FWKNOP_INPUT']);
        return rules;
      };
      const rules = await ruleAppears();
      assert.ok(rules.includes(rule), rules);

      // The same keys in the user's ~/.fwknoprc, as fwknop users keep them: `knock gw --fwknoprc`
      // sends what its [gw] stanza says (SPA_SERVER, ACCESS, ALLOW_IP), and fwknopd opens again.
      bed.run(bed.server.ns, ['iptables', '-F', 'FWKNOP_INPUT']);
      const home = join(d, 'home');
      mkdirSync(home, { mode: 0o700 });
      writeFileSync(
        join(home, '.fwknoprc'),
        [
          '[default]',
          '',
          '[gw]',
          `SPA_SERVER                  ${bed.server.clientSide.v4}`,
          'ACCESS                      tcp/22',
          `ALLOW_IP                    ${bed.client.v4}`,
          `KEY_BASE64                  ${k.key}`,
          `HMAC_KEY_BASE64             ${k.hmac}`,
          'USE_HMAC                    Y',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      bed.run(bed.client.ns, ['env', `HOME=${home}`, process.execPath, KNOCKGATE, 'knock', 'gw', '--fwknoprc']);
      const again = await ruleAppears();
      assert.ok(again.includes(rule), `after the --fwknoprc knock: ${again}`);
    } finally {
      bed.destroy();
    }
  });
});
