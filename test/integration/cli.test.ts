/**
 * The command lines as an operator meets them: a bad configuration stops knockgated with exit 78
 * and a message naming file, line and key, before anything touches the firewall; --check validates
 * without running; a bad client argument exits 64 and names the argument.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { KNOCKGATE, KNOCKGATED, REPO_ROOT, writeConfig } from '../support/daemon-process.js';

function run(cli: string, args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('knockgated command line', () => {
  it('exits 78 on a bad config, naming the file, the line and the key', () => {
    const file = writeConfig(
      [
        'interfaces: [lo]',
        'doors:',
        '  - name: ssh',
        '    sequence: [1, 2, 3]',
        '    open: [22/tcp]',
        '    duration: 30',
        '',
      ].join('\n'),
    );
    const r = run(KNOCKGATED, ['-c', file]);
    assert.equal(r.status, 78);
    assert.match(
      r.stderr,
      new RegExp(
        `^knockgated: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: doors\\[0\\]\\.duration: expected a duration`,
        'm',
      ),
    );
    assert.equal(r.stdout, '');
  });

  it('exits 78 when the config file is missing', () => {
    const r = run(KNOCKGATED, ['-c', '/nonexistent/knockgate.yaml']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /\/nonexistent\/knockgate\.yaml: cannot read/);
  });

  it('exits 78 naming the line of a bad one-time sequence', () => {
    const file = writeConfig(
      ['interfaces: [lo]', 'doors:', '  - name: otp', '    one_time_sequences: otp.txt', '    open: [22/tcp]', ''].join(
        '\n',
      ),
    );
    const otp = file.replace(/knockgate\.yaml$/, 'otp.txt');
    writeFileSync(otp, '1,2,3\n4,99999,6\n', { mode: 0o600 });
    const r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /otp\.txt:2: port must be a whole number/);
  });

  it('refuses a world-readable one-time sequence file', () => {
    const file = writeConfig(
      ['interfaces: [lo]', 'doors:', '  - name: otp', '    one_time_sequences: otp.txt', '    open: [22/tcp]', ''].join(
        '\n',
      ),
    );
    writeFileSync(file.replace(/knockgate\.yaml$/, 'otp.txt'), '1,2,3\n', { mode: 0o644 });
    const r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /must not be world-readable/);
  });

  it('--check accepts a good config and says what it found', () => {
    const file = writeConfig(
      ['interfaces: [lo]', 'doors:', '  - name: ssh', '    sequence: [1, 2, 3]', '    open: [22/tcp]', ''].join('\n'),
    );
    const r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: OK \(1 door: ssh\)/);
  });

  it('exits 78 naming file and line of interfaces: when an interface does not exist, before touching the firewall', () => {
    // A table name of this run alone: this daemon runs in the host's namespace, where another run of
    // this test may hold the lock on a shared name (KG_ALREADY_RUNNING, exit 75).
    const table = `kgclitest_${randomBytes(4).toString('hex')}`;
    const file = writeConfig(
      [
        'firewall: nftables',
        'interfaces: [kgnosuch0]',
        `nft_table: ${table}`,
        'doors:',
        '  - name: ssh',
        '    sequence: [1, 2, 3]',
        '    open: [22/tcp]',
        '',
      ].join('\n'),
    );
    const r = run(KNOCKGATED, ['-c', file]);
    assert.equal(r.status, 78, r.stderr);
    assert.ok(r.stderr.includes(`${file}:2: interfaces`), r.stderr);
    assert.match(r.stderr, /kgnosuch0/);
    const listing = spawnSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });
    assert.notEqual(listing.status, 0, 'the table must not exist');
  });
});

describe('knockgated --check and interfaces', () => {
  it('--check with interfaces: [eth9] (no such interface) exits 78 with FILE:LINE: interfaces', () => {
    const file = writeConfig(
      ['interfaces: [eth9]', 'doors:', '  - name: ssh', '    sequence: [1, 2, 3]', '    open: [22/tcp]', ''].join('\n'),
    );
    const r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(`${file}:1: interfaces`), r.stderr);
    assert.doesNotMatch(r.stdout, /OK/);
  });

  it('--check rejects an interface name starting with @ (it would be an nftables set reference)', () => {
    const file = writeConfig(
      [
        'interfaces: [lo]',
        'exempt_interfaces: ["@protected"]',
        'doors:',
        '  - name: ssh',
        '    sequence: [1, 2, 3]',
        '    open: [22/tcp]',
        '',
      ].join('\n'),
    );
    const r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78, r.stdout + r.stderr);
    assert.match(r.stderr, /:2: exempt_interfaces/);
  });
});

describe('knockgated refuses files others could change (exit 78) and symbolic links where it writes', () => {
  const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const GOOD = [
    'interfaces: [lo]',
    'doors:',
    '  - name: ssh',
    '    sequence: [1, 2, 3]',
    '    open: [22/tcp]',
    '',
  ].join('\n');

  it('a group-writable or foreign-owned config, and one in a world-writable directory', () => {
    const file = writeConfig(GOOD);
    assert.equal(run(KNOCKGATED, ['-c', file, '--check']).status, 0);
    chmodSync(file, 0o660);
    let r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78);
    assert.match(
      r.stderr,
      new RegExp(`^knockgated: ${escaped(file)}: writable by group or others \\(mode 0660\\)`, 'm'),
    );
    chmodSync(file, 0o600);
    chownSync(file, 65534, 65534);
    r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, new RegExp(`^knockgated: ${escaped(file)}: owned by uid 65534`, 'm'));
    chownSync(file, 0, 0);
    chmodSync(dirname(file), 0o777);
    r = run(KNOCKGATED, ['-c', file, '--check']);
    chmodSync(dirname(file), 0o700);
    assert.equal(r.status, 78);
    assert.match(
      r.stderr,
      new RegExp(
        `^knockgated: ${escaped(file)}: its directory ${escaped(dirname(file))} is writable by group or others`,
        'm',
      ),
    );
  });

  it('--knockd-conf: a world-writable or foreign-owned knockd.conf', () => {
    const conf = join(dirname(writeConfig('')), 'knockd.conf');
    writeFileSync(
      conf,
      ['[options]', '[openSSH]', '\tsequence = 7000,8000,9000', '\tcommand = /bin/true', ''].join('\n'),
      { mode: 0o600 },
    );
    assert.equal(run(KNOCKGATED, ['--knockd-conf', conf, '--check']).status, 0);
    chmodSync(conf, 0o602);
    let r = run(KNOCKGATED, ['--knockd-conf', conf, '--check']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, new RegExp(`^knockgated: ${escaped(conf)}: writable by group or others`, 'm'));
    chmodSync(conf, 0o600);
    chownSync(conf, 65534, 65534);
    r = run(KNOCKGATED, ['--knockd-conf', conf, '--check']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, new RegExp(`^knockgated: ${escaped(conf)}: owned by uid 65534`, 'm'));
  });

  for (const key of ['pid_file', 'log_file']) {
    it(`a ${key} that is a symbolic link is an error (exit 73), and its target is not written`, () => {
      // A table name of this run alone: this daemon runs in the host's namespace (the lock is taken first).
      const table = `kgclitest_${randomBytes(4).toString('hex')}`;
      const file = writeConfig('');
      const dir = dirname(file);
      const victim = join(dir, 'victim');
      writeFileSync(victim, 'precious\n', { mode: 0o600 });
      const link = join(dir, `link-${key}`);
      symlinkSync(victim, link);
      // firewall: none and lo: were the link followed, the daemon would run (until the 20 s timeout) and touch no firewall.
      writeFileSync(
        file,
        [
          'interfaces: [lo]',
          'firewall: none',
          `nft_table: ${table}`,
          `${key}: ${JSON.stringify(link)}`,
          'doors:',
          '  - name: cmd',
          '    sequence: [1, 2, 3]',
          '    start_command: [/bin/true]',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      const r = run(KNOCKGATED, ['-c', file]);
      assert.equal(r.status, 73, r.stderr);
      assert.match(r.stderr, new RegExp(`${escaped(link)}: it is a symbolic link`));
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    });
  }
});

describe('knockgate keys and credentials', () => {
  it('keygen writes a 0600 key and refuses to overwrite it', () => {
    const dir = dirname(writeConfig(''));
    const key = join(dir, 'server.key');
    const r = run(KNOCKGATE, ['keygen', '-o', key]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /public key: [A-Za-z0-9_-]{43}\n/);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    const again = run(KNOCKGATE, ['keygen', '-o', key]);
    assert.equal(again.status, 64);
    assert.match(again.stderr, /refusing to overwrite/);
  });

  it('a credential readable by others is refused (exit 78), and nothing is sent', () => {
    const dir = dirname(writeConfig(''));
    assert.equal(run(KNOCKGATE, ['keygen', '-o', join(dir, 'server.key')]).status, 0);
    const cred = join(dir, 'me.yaml');
    assert.equal(
      run(KNOCKGATE, ['add-client', 'me', '--door', 'ssh', '-k', join(dir, 'server.key'), '-o', cred]).status,
      0,
    );
    assert.equal(statSync(cred).mode & 0o777, 0o600);
    chmodSync(cred, 0o644);
    const r = run(KNOCKGATE, ['knock', '127.0.0.1', '-c', cred]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /readable by group or others/);
  });

  it('knockgated refuses a server key readable by others (exit 78)', () => {
    const file = writeConfig('');
    const dir = dirname(file);
    assert.equal(run(KNOCKGATE, ['keygen', '-o', join(dir, 'server.key')]).status, 0);
    const added = run(KNOCKGATE, [
      'add-client',
      'me',
      '--door',
      'ssh',
      '-k',
      join(dir, 'server.key'),
      '-o',
      join(dir, 'me.yaml'),
    ]).stdout;
    const entry = added
      .split('\n')
      .filter((l) => /^\s+(- name|id|public_key):/.test(l))
      .map((l) => l.trim());
    writeFileSync(
      file,
      [
        'interfaces: [lo]',
        'spa: { server_key: server.key, replay_journal: r.journal }',
        'doors:',
        '  - name: ssh',
        '    spa: { port: 62201 }',
        '    open: [22/tcp]',
        '    clients:',
        `      ${entry[0]}`,
        ...entry.slice(1).map((l) => `        ${l}`),
        '',
      ].join('\n'),
    );
    assert.equal(run(KNOCKGATED, ['-c', file, '--check']).status, 0);
    chmodSync(join(dir, 'server.key'), 0o640);
    const r = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /server\.key: holds a secret \(private_key\) but is readable by group or others/);
  });
});

describe('knockgate client profiles', () => {
  it('knock HOST uses ~/.config/knockgate/profiles/HOST.yaml; without one and without steps it says what to do', () => {
    const dir = dirname(writeConfig(''));
    const env = { ...process.env, XDG_CONFIG_HOME: dir };
    const without = spawnSync(process.execPath, [KNOCKGATE, 'knock', '127.0.0.1'], { encoding: 'utf8', env });
    assert.equal(without.status, 64);
    assert.match(without.stderr, /no steps given and no credential.*profiles\/127\.0\.0\.1\.yaml/);
    assert.equal(run(KNOCKGATE, ['keygen', '-o', join(dir, 'server.key')]).status, 0);
    mkdirSync(join(dir, 'knockgate', 'profiles'), { recursive: true });
    const cred = join(dir, 'knockgate', 'profiles', '127.0.0.1.yaml');
    assert.equal(
      run(KNOCKGATE, ['add-client', 'me', '--door', 'ssh', '-k', join(dir, 'server.key'), '--port', '9', '-o', cred])
        .status,
      0,
    );
    const withProfile = spawnSync(process.execPath, [KNOCKGATE, 'knock', '-v', '127.0.0.1'], { encoding: 'utf8', env });
    assert.equal(withProfile.status, 0, withProfile.stderr);
    assert.match(withProfile.stdout, /^SPA to 127\.0\.0\.1 port 9\/udp\n {2}client: +me \(door ssh,/m);
  });
});

describe('knockgate import', () => {
  it("turns Debian's knockd.conf into YAML that knockgated accepts, with the differences on stderr", () => {
    const r = run(KNOCKGATE, ['import', join(REPO_ROOT, 'test', 'fixtures', 'knockd', 'debian-default.conf')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /start_shell: "\/sbin\/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT"/);
    assert.match(r.stderr, /debian-default\.conf:\d+: /);
    const file = writeConfig(r.stdout);
    assert.equal(run(KNOCKGATED, ['-c', file, '--check']).status, 0);
  });

  it('an access.conf without OPEN_PORTS: import says to give --open (exit 64); with --open, YAML knockgated accepts', () => {
    const access = join(dirname(writeConfig('')), 'access.conf');
    writeFileSync(
      access,
      [
        'SOURCE ANY',
        `KEY_BASE64 ${randomBytes(32).toString('base64')}`,
        `HMAC_KEY_BASE64 ${randomBytes(32).toString('base64')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const without = run(KNOCKGATE, ['import', access]);
    assert.equal(without.status, 64);
    assert.match(without.stderr, /no stanza has OPEN_PORTS.*--open, e\.g\. knockgate import --open 22\/tcp/);
    assert.equal(without.stdout, '');
    const given = run(KNOCKGATE, ['import', '--open', '22/tcp', access]);
    assert.equal(given.status, 0, given.stderr);
    assert.match(given.stderr, /the door opens what --open gave, 22\/tcp/);
    const file = writeConfig(given.stdout.replace('interfaces: ["eth0"]', 'interfaces: [lo]'));
    const check = run(KNOCKGATED, ['-c', file, '--check']);
    assert.equal(check.status, 0, check.stderr);
  });

  it('a knockd.conf knockd itself would reject is an error naming file and line (exit 78)', () => {
    const file = join(dirname(writeConfig('')), 'bad.conf');
    writeFileSync(file, '[options]\n\tUseSyslog\n\n[door]\n\tsequence = 7000,99999\n');
    const r = run(KNOCKGATE, ['import', file]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /bad\.conf:5: /);
  });
});

describe('knockgate command line', () => {
  it('exits 64 on a bad port, naming it', () => {
    const r = run(KNOCKGATE, ['knock', '127.0.0.1', '1000', '70000']);
    assert.equal(r.status, 64);
    assert.match(r.stderr, /"70000"/);
  });

  it('exits 64 on a bad delay', () => {
    const r = run(KNOCKGATE, ['knock', '--delay', 'soon', '127.0.0.1', '1000']);
    assert.equal(r.status, 64);
    assert.match(r.stderr, /delay/);
  });

  it('exits 64 on -4 with an IPv6 address', () => {
    const r = run(KNOCKGATE, ['knock', '-4', '::1', '1000']);
    assert.equal(r.status, 64);
  });
});
