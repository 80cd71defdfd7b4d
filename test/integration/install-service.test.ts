/**
 * `knockgated --install-service --root DIR`: what an operator gets on disk after the npm install,
 * checked as they would: the unit runs the knockgated and knockgate that were run (systemd-analyze
 * verify accepts it as written), the logrotate file is the shipped one, the completion script
 * loads in bash, the state directories are 0700 and root's; a second run changes nothing; a file
 * the operator changed is left alone (exit 73, named) unless --force.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KNOCKGATE, KNOCKGATED, REPO_ROOT } from '../support/daemon-process.js';

describe('knockgated --install-service', () => {
  const root = mkdtempSync(join(tmpdir(), 'kg-install-root-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [KNOCKGATED, '--install-service', '--root', root, ...args], { encoding: 'utf8' });
  const unit = join(root, 'etc/systemd/system/knockgated.service');
  const logrotate = join(root, 'etc/logrotate.d/knockgate');

  it('puts the unit, the logrotate file, the completion and the 0700 directories in place', () => {
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /systemctl daemon-reload && systemctl enable --now knockgated/);
    const text = readFileSync(unit, 'utf8');
    assert.match(text, new RegExp(`^ExecStart=${KNOCKGATED} -c /etc/knockgate/knockgate\\.yaml$`, 'm'));
    assert.match(text, new RegExp(`^ExecReload=${KNOCKGATE} reload --config`, 'm'));
    assert.equal(text.includes('/usr/local/bin/'), false, 'no path left that was not the one run');
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', cwd: root });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.equal(readFileSync(logrotate, 'utf8'), readFileSync(join(REPO_ROOT, 'contrib/logrotate/knockgate'), 'utf8'));
    const completion = join(root, 'usr/share/bash-completion/completions/knockgate');
    assert.equal(spawnSync('bash', ['-n', completion]).status, 0);
    assert.match(readFileSync(completion, 'utf8'), /complete .* knockgate$/m);
    for (const dir of ['etc/knockgate', 'var/lib/knockgate', 'var/log/knockgate']) {
      const st = statSync(join(root, dir));
      assert.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o700, 0, 0], dir);
    }
    assert.equal(statSync(join(root, 'var/lib')).mode & 0o777, 0o755, 'parents as a system has them');
    assert.equal(statSync(unit).mode & 0o777, 0o644);
  });

  it('a second run changes nothing; a directory made too open is put back to 0700', () => {
    chmodSync(join(root, 'var/lib/knockgate'), 0o755);
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('wrote') || l.startsWith('replaced')).length, 0);
    assert.match(r.stdout, /fixed .*var\/lib\/knockgate: was 755/);
    assert.equal(statSync(join(root, 'var/lib/knockgate')).mode & 0o777, 0o700);
  });

  it('a file the operator changed is left alone and named (exit 73) unless --force', () => {
    writeFileSync(logrotate, '# mine\n');
    const r = run();
    assert.equal(r.status, 73, r.stderr);
    assert.match(r.stderr, /left alone, as they differ .*logrotate\.d\/knockgate; --force replaces them/);
    assert.equal(readFileSync(logrotate, 'utf8'), '# mine\n');
    const forced = run('--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /replaced .*logrotate\.d\/knockgate/);
    assert.notEqual(readFileSync(logrotate, 'utf8'), '# mine\n');
  });

  it('--root or --force without --install-service is a usage error (exit 64)', () => {
    const r = spawnSync(process.execPath, [KNOCKGATED, '--root', root], { encoding: 'utf8' });
    assert.equal(r.status, 64, r.stderr);
    assert.match(r.stderr, /--root and --force go with --install-service/);
  });
});
