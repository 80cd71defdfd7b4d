/**
 * `knockgate add-client NAME --totp --door DOOR -c CONFIG` (src/client/provision-totp.ts and
 * src/cli/knockgate/provisioning.ts), run as the real command in a temp dir: it writes the door's
 * secret (0600) when the door has none and keeps it when it has one; the credential it writes and
 * prints reads back with the door's parameters, so the client derives the sequences the daemon
 * accepts (the daemon reads the same secret file); with --qr it prints a QR code; a door that is
 * not time-based is a usage error (exit 64).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { readTotpCredential, readTotpSecret } from '../../src/stores/totp-key-files.js';
import { readConfiguredFiles } from '../../src/daemon/compose.js';
import { KNOCKGATE } from '../support/daemon-process.js';

describe('knockgate add-client --totp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kg-totp-prov-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'knockgate.yaml');
  writeFileSync(
    config,
    [
      'interfaces: [any]',
      'doors:',
      '  - name: ssh',
      '    sequence: { totp: secrets/ssh.totp, steps: 5, period: 15s, ports: 30000-30999, protocol: udp }',
      '    open: [22]',
      '  - name: web',
      '    sequence: [7000, 8000]',
      '    open: [443]',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [KNOCKGATE, 'add-client', ...args, '-c', config], { encoding: 'utf8', cwd: dir });

  it('writes the secret once (0600), and credentials that derive the same sequences as the daemon', () => {
    const a = run('alice', '--totp', '--door', 'ssh', '-o', join(dir, 'alice.totp.yaml'));
    assert.equal(a.status, 0, a.stderr);
    const secretFile = join(dir, 'secrets', 'ssh.totp');
    assert.match(a.stdout, /wrote the door's secret to .*secrets\/ssh\.totp/);
    assert.match(a.stdout, /kind: knockgate-totp-client-v1/);
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'alice.totp.yaml')).mode & 0o777, 0o600);
    const alice = readTotpCredential(join(dir, 'alice.totp.yaml'));
    assert.deepEqual(alice.parameters, {
      door: 'ssh',
      steps: 5,
      periodMs: 15_000,
      low: 30_000,
      high: 30_999,
      protocol: 'udp',
    });
    // The daemon reads the same secret from the door's file.
    const files = readConfiguredFiles(loadConfig(config));
    assert.deepEqual(files.totpSecrets.get(0), alice.secret);
    assert.deepEqual(readTotpSecret(secretFile), alice.secret);

    const b = run('bob', '--totp', '--door', 'ssh', '-o', join(dir, 'bob.totp.yaml'), '--qr');
    assert.equal(b.status, 0, b.stderr);
    assert.doesNotMatch(b.stdout, /wrote the door's secret/, 'the existing secret is kept');
    assert.deepEqual(readTotpCredential(join(dir, 'bob.totp.yaml')).secret, alice.secret);
    assert.match(b.stdout, /[▀▄█]{10}/, 'a QR code in block characters');
  });

  it('a door that is not time-based, or a missing --door, is a usage error', () => {
    const r = run('carol', '--totp', '--door', 'web', '-o', join(dir, 'carol.yaml'));
    assert.equal(r.status, 64);
    assert.match(r.stderr, /no time-based sequence door "web"/);
    const s = run('carol', '--totp', '-o', join(dir, 'carol.yaml'));
    assert.equal(s.status, 64);
    assert.match(s.stderr, /needs --door/);
  });
});
