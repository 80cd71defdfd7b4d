/**
 * fwknop's GnuPG mode with the real peers: keys made by `gpg --batch --gen-key` in temporary homes
 * (a server key with a passphrase; client signing keys without one), the real fwknop client
 * (--gpg-encryption), and knockgated in network namespaces reading fwknopd's access.conf (GPG_*)
 * and a knockgate.yaml stanza with `gpg` and an HMAC. Covers: a GnuPG packet opens the port for its
 * source; a signer not in GPG_REMOTE_ID / GPG_FINGERPRINT_ID, an unsigned packet (GPG_REQUIRE_SIG,
 * the default) and a wrong HMAC (before any gpg run) are refused by name; a replay is refused.
 * Prints the wall time of one gpg run (daemon/gpg-decrypter.ts) per packet.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BUILD_ROOT, KNOCKGATE, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';
import { SystemGpgDecrypter } from '../../src/daemon/gpg-decrypter.js';
import { gpgMessageBytes } from '../../src/core/spa/fwknop-gpg.js';

const SPA_TOOL = join(BUILD_ROOT, 'test', 'support', 'spa-tool.js');
const SERVER_PW = `server-${randomBytes(6).toString('hex')}`;
const HMAC_KEY = randomBytes(64).toString('base64');

/** gpg with a home, failing loudly. */
function gpg(home: string, args: string[], input?: string): string {
  const r = spawnSync('gpg', ['--batch', '--homedir', home, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/**
 * A key; returns its primary fingerprint. The server's is RSA-2048 (an unsigned packet to it is
 * still over 400 characters, so fwknop's length rule takes it as GnuPG); the clients' Ed25519,
 * whose short signatures leave room for an HMAC within the 1,023 characters knockgate reads.
 */
function genKey(home: string, name: string, passphrase: string | null, type: 'RSA' | 'ECC' = 'ECC'): string {
  const spec = [
    ...(type === 'RSA'
      ? ['Key-Type: RSA', 'Key-Length: 2048', 'Subkey-Type: RSA', 'Subkey-Length: 2048']
      : ['Key-Type: EDDSA', 'Key-Curve: ed25519', 'Subkey-Type: ECDH', 'Subkey-Curve: cv25519']),
    `Name-Real: ${name}`,
    passphrase === null ? '%no-protection' : `Passphrase: ${passphrase}`,
    'Expire-Date: 0',
    '%commit',
    '',
  ].join('\n');
  gpg(home, ['--gen-key'], spec);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(home, ['--with-colons', '--list-keys', name]));
  assert.ok(fpr);
  return fpr[1] as string;
}

const ROOT = mkdtempSync(join(tmpdir(), 'kg-gpg-'));
const SERVER_HOME = join(ROOT, 's');
const CLIENT_HOME = join(ROOT, 'c');
for (const h of [SERVER_HOME, CLIENT_HOME]) spawnSync('mkdir', ['-m', '700', h]);
const SERVER_FPR = genKey(SERVER_HOME, 'knockgate-server', SERVER_PW, 'RSA');
const CLIENT_FPR = genKey(CLIENT_HOME, 'alice', null);
const STRANGER_FPR = genKey(CLIENT_HOME, 'mallory', null);
// Each side knows the other's public keys (as fwknop's docs have it); the server knows mallory's too,
// so that her signature verifies and only the signer lists refuse it.
gpg(SERVER_HOME, ['--import'], gpg(CLIENT_HOME, ['--armor', '--export', CLIENT_FPR, STRANGER_FPR]));
gpg(CLIENT_HOME, ['--import'], gpg(SERVER_HOME, ['--armor', '--export', SERVER_FPR]));
/** GPG_EXE of the HMAC stanza: gpg, counting its runs (to see that a wrong HMAC starts none). */
const RUNS = join(ROOT, 'gpg-runs');
const COUNTING_GPG = join(ROOT, 'counting-gpg');
writeFileSync(COUNTING_GPG, `#!/bin/sh\necho run >> ${RUNS}\nexec /usr/bin/gpg "$@"\n`);
chmodSync(COUNTING_GPG, 0o700);
const runs = (): number => (existsSync(RUNS) ? readFileSync(RUNS, 'utf8').split('\n').length - 1 : 0);

after(() => {
  for (const h of [SERVER_HOME, CLIENT_HOME]) spawnSync('gpgconf', ['--homedir', h, '--kill', 'gpg-agent']);
  rmSync(ROOT, { recursive: true, force: true });
});

describe('fwknop GnuPG mode', () => {
  const s = useScenario({
    banner: [22, 2222],
    files: () => ({
      'access.conf': [
        'SOURCE ANY',
        'OPEN_PORTS tcp/22',
        `GPG_HOME_DIR ${SERVER_HOME}`,
        `GPG_DECRYPT_ID ${SERVER_FPR.slice(-16)}`,
        `GPG_DECRYPT_PW ${SERVER_PW}`,
        `GPG_REMOTE_ID ${CLIENT_FPR.slice(-16)}`,
        'FW_ACCESS_TIMEOUT 4',
        '',
      ].join('\n'),
    }),
    replayJournal: true,
    doors: () => [
      '  - name: gpg',
      '    fwknop: { port: 62201 }',
      '    access_conf: access.conf',
      '    open: [22/tcp]',
      '    duration: 4s',
      '  - name: gpg-hmac',
      '    fwknop: { port: 62202 }',
      '    open: [2222/tcp]',
      '    duration: 4s',
      '    stanzas:',
      '      - source: ANY',
      '        open_ports: [2222/tcp]',
      `        hmac_key_base64: "${HMAC_KEY}"`,
      '        gpg:',
      `          home_dir: ${SERVER_HOME}`,
      `          exe: ${COUNTING_GPG}`,
      `          decrypt_id: "${SERVER_FPR}"`,
      `          decrypt_pw: "${SERVER_PW}"`,
      `          fingerprint_ids: ["${CLIENT_FPR}"]`,
    ],
  });
  const { tb, daemon } = s;

  /** The real fwknop client in GnuPG mode; `signer` null: unsigned. */
  const fwknopArgs = (signer: string | null, port: number, extra: string[] = []): string[] => [
    'fwknop',
    '--no-rc-file',
    '--no-save-args',
    '-A',
    port === 62201 ? 'tcp/22' : 'tcp/2222',
    '-a',
    tb.client.v4,
    '-D',
    tb.server.clientSide.v4,
    '-p',
    String(port),
    '--gpg-encryption',
    '--gpg-recipient-key',
    SERVER_FPR,
    '--gpg-home-dir',
    CLIENT_HOME,
    ...(signer === null ? [] : ['--gpg-signer-key', signer, '--gpg-no-signing-pw']),
    ...extra,
  ];
  const verdict = async (before: number, door: string, what: string) =>
    daemon.waitFor((l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop' && l.door === door, 10_000, what);
  const knock = async (signer: string | null, port = 62201, extra: string[] = []) => {
    const before = daemon.lines.length;
    tb.run(tb.client.ns, fwknopArgs(signer, port, extra));
    return verdict(before, port === 62201 ? 'gpg' : 'gpg-hmac', 'the verdict');
  };

  it('a signed GnuPG packet from the real fwknop client opens the port for its source', async () => {
    const before = daemon.lines.length;
    const line = await knock(CLIENT_FPR);
    assert.equal(line.verdict, 'accepted', JSON.stringify(line));
    await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.source === tb.client.v4,
      5000,
      'the grant',
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });

  it('signed by a key not in GPG_REMOTE_ID (nor in fingerprint_ids): refused as fwknop-gpg-signer', async () => {
    assert.equal((await knock(STRANGER_FPR)).reason, 'fwknop-gpg-signer');
    assert.equal(
      (await knock(STRANGER_FPR, 62202, ['--use-hmac', '--key-base64-hmac', HMAC_KEY])).reason,
      'fwknop-gpg-signer',
    );
  });

  it('an unsigned packet: refused as fwknop-gpg-unsigned (GPG_REQUIRE_SIG, the default)', async () => {
    assert.equal((await knock(null)).reason, 'fwknop-gpg-unsigned');
  });

  it('with an HMAC stanza: a wrong HMAC is refused before gpg runs; the right one opens its port', async () => {
    const n = runs();
    const wrong = await knock(CLIENT_FPR, 62202, [
      '--use-hmac',
      '--key-base64-hmac',
      randomBytes(64).toString('base64'),
    ]);
    assert.equal(wrong.reason, 'fwknop-hmac');
    assert.equal(runs(), n, 'no gpg run for a wrong HMAC');
    const right = await knock(CLIENT_FPR, 62202, ['--use-hmac', '--key-base64-hmac', HMAC_KEY]);
    assert.equal(right.verdict, 'accepted', JSON.stringify(right));
    assert.equal(runs(), n + 1, 'one gpg run for the right HMAC');
    await daemon.waitFor((l) => l.event === 'grant' && l.door === 'gpg-hmac', 5000, 'the grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
  });

  it("knockgate's own GnuPG sending: knock --fwknoprc (USE_GPG Y, with HMAC) and knock --fwknop (gpg_recipient) open both doors", async () => {
    const rc = s.path('fwknoprc');
    writeFileSync(
      rc,
      [
        '[gw]',
        `SPA_SERVER       ${tb.server.clientSide.v4}`,
        'SPA_SERVER_PORT  62202',
        'ACCESS           tcp/2222',
        `ALLOW_IP         ${tb.client.v4}`,
        'USE_GPG          Y',
        `GPG_RECIPIENT    ${SERVER_FPR}`,
        `GPG_SIGNER       ${CLIENT_FPR}`,
        `GPG_HOMEDIR      ${CLIENT_HOME}`,
        `HMAC_KEY_BASE64  ${HMAC_KEY}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const n = runs();
    let before = daemon.lines.length;
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', 'gw', '--fwknoprc', '--rc-file', rc]);
    const viaRc = await verdict(before, 'gpg-hmac', 'the --fwknoprc verdict');
    assert.equal(viaRc.verdict, 'accepted', JSON.stringify(viaRc));
    assert.equal(runs(), n + 1, 'the HMAC held, so gpg ran once');
    await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.door === 'gpg-hmac',
      5000,
      'the grant',
    );

    const cred = s.path('gpg-cred.yaml');
    writeFileSync(
      cred,
      [
        'kind: knockgate-fwknop-client-v1',
        `gpg_recipient: "${SERVER_FPR}"`,
        `gpg_signer: "${CLIENT_FPR}"`,
        `gpg_home_dir: "${CLIENT_HOME}"`,
        'port: 62201',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    before = daemon.lines.length;
    tb.run(tb.client.ns, [
      process.execPath,
      KNOCKGATE,
      'knock',
      '--fwknop',
      cred,
      '--ports',
      '22/tcp',
      '--allow-ip',
      tb.client.v4,
      tb.server.clientSide.v4,
    ]);
    const viaCred = await verdict(before, 'gpg', 'the --fwknop verdict');
    assert.equal(viaCred.verdict, 'accepted', JSON.stringify(viaCred));
  });

  /** A packet the real client made (--test: printed, not sent). */
  const madePacket = (): string => {
    // --test makes and prints the packet without sending it, then fails to decrypt it itself (no server key): exit 1.
    const [cmd, ...args] = [...fwknopArgs(CLIENT_FPR, 62201), '--test', '--verbose'];
    const out = spawnSync(cmd as string, args, { encoding: 'utf8', timeout: 30_000 }).stdout;
    const m = /Final SPA Data: (\S+)/.exec(out);
    assert.ok(m, out);
    return m[1] as string;
  };

  it('the same packet sent again is refused as fwknop-replayed', async () => {
    const hex = Buffer.from(madePacket(), 'latin1').toString('hex');
    const send = async (what: string) => {
      const before = daemon.lines.length;
      tb.run(tb.client.ns, [process.execPath, SPA_TOOL, 'send', tb.server.clientSide.v4, '62201', hex]);
      return verdict(before, 'gpg', what);
    };
    assert.equal((await send('first')).verdict, 'accepted');
    assert.equal((await send('again')).reason, 'fwknop-replayed');
  });

  it('one gpg run per packet: decrypts and reports the signer; prints its cost', async () => {
    const text = madePacket();
    const message = gpgMessageBytes(new Uint8Array(Buffer.from(text, 'latin1')), text.length);
    const settings = {
      exe: '/usr/bin/gpg',
      homeDir: SERVER_HOME,
      decryptId: SERVER_FPR,
      decryptPassphrase: new Uint8Array(Buffer.from(SERVER_PW)),
      requireSignature: true,
      ignoreVerifyError: false,
      remoteIds: [],
      fingerprints: [CLIENT_FPR],
    };
    const d = new SystemGpgDecrypter();
    const N = 5;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const r = await d.decrypt(settings, message);
      assert.equal(r.kind, 'decrypted', JSON.stringify(r));
      if (r.kind === 'decrypted') {
        assert.equal(r.signature?.status, 'good');
        assert.ok(r.signature?.keyIds.includes(CLIENT_FPR));
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / N;
    // A home without the server's secret key (the agent caches an unlocked key, so a wrong
    // passphrase after a right one would still decrypt: that is gpg-agent's, and fwknopd's, behaviour).
    const wrong = await d.decrypt({ ...settings, homeDir: CLIENT_HOME }, message);
    assert.equal(wrong.kind, 'not-decrypted');
    assert.match(wrong.kind === 'not-decrypted' ? wrong.detail : '', /DECRYPTION_FAILED|NO_SECKEY/);
    process.stdout.write(
      `# fwknop GnuPG: one gpg run per packet (RSA-2048 server key with passphrase, Ed25519 signer): ${ms.toFixed(1)} ms wall (mean of ${N})\n`,
    );
  });
});
