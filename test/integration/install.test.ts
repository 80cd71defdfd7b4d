/**
 * The packed tarball installs as a user would install it: `npm install -g` into a fresh prefix
 * builds the native parts at install time, puts `knockgate` and `knockgated` on that prefix's bin
 * and the three manual pages where man(1) finds them, and the installed daemon runs for real (in a namespace, nftables table and all). Without a
 * compiler the install still succeeds, says why the daemon's parts are missing, the client works,
 * and the daemon names the script that builds them. The tarball is packed from this checkout's
 * build (`npm pack --ignore-scripts`: scripts/test.sh has just built it); npm fetches the runtime
 * dependencies from the registry.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';
import { REPO_ROOT } from '../support/daemon-process.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function sh(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = REPO_ROOT,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, cwd, timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm pack, then npm install -g of the tarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knockgate-install-'));
  let tarball: string;
  let tb: Testbed | undefined;
  after(() => {
    tb?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  before(() => {
    const r = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', dir]);
    assert.equal(r.status, 0, r.stderr);
    tarball = join(dir, `knockgate-${VERSION}.tgz`);
    assert.ok(existsSync(tarball), r.stdout);
  });

  /** As the README says to install: --foreground-scripts shows what the native build says. */
  const install = (prefix: string, env: NodeJS.ProcessEnv): ReturnType<typeof sh> =>
    sh(
      'npm',
      ['install', '-g', '--foreground-scripts', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
      env,
      dir,
    );

  it('installs both tools, builds the native parts, and the installed daemon runs', async () => {
    const prefix = join(dir, 'full');
    const r = install(prefix, process.env);
    assert.equal(r.status, 0, r.stderr);
    const bin = (name: string): string => join(prefix, 'bin', name);
    assert.equal(sh(bin('knockgate'), ['--version']).stdout.trim(), VERSION);
    assert.equal(sh(bin('knockgated'), ['--version']).stdout.trim(), VERSION);
    // The shipped unit and files are found in the installed package, and the unit runs these commands.
    const root = join(dir, 'service-root');
    const service = sh(bin('knockgated'), ['--install-service', '--root', root]);
    assert.equal(service.status, 0, service.stderr);
    const unit = readFileSync(join(root, 'etc', 'systemd', 'system', 'knockgated.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${bin('knockgated')} -c `, 'm'));
    assert.match(unit, new RegExp(`^ExecReload=${bin('knockgate')} reload `, 'm'));
    for (const part of ['knockgate-nft', 'pcap-capture.node', 'udp-batch.node', 'flock.node', 'nft-elements.node']) {
      assert.ok(
        existsSync(join(prefix, 'lib', 'node_modules', 'knockgate', 'dist', 'libexec', part)),
        `${part} built at install`,
      );
    }
    for (const [section, page] of [
      ['1', 'knockgate'],
      ['8', 'knockgated'],
      ['5', 'knockgate.yaml'],
    ] as const) {
      const shown = sh('man', ['-M', join(prefix, 'share', 'man'), section, page], {
        ...process.env,
        MANPAGER: 'cat',
        MANWIDTH: '80',
      });
      assert.equal(shown.status, 0, `man ${section} ${page}: ${shown.stderr}`);
      assert.match(shown.stdout, new RegExp(`^${page.toUpperCase().replace('.', '\\.')}\\(${section}\\)`, 'm'));
    }
    const config = join(dir, 'knockgate.yaml');
    writeFileSync(
      config,
      [
        'interfaces: [any]',
        'nft_table: kginstalled',
        'audit_log: audit.jsonl', // not the host's /var/log
        'doors:',
        '  - name: ssh',
        '    sequence: [7001, 7002, 7003]',
        '    open: [22/tcp]',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const check = sh(bin('knockgated'), ['-c', config, '--check']);
    assert.equal(check.status, 0, check.stderr);
    tb = createTestbed();
    const child = tb.start(tb.server.ns, [bin('knockgated'), '-c', config]);
    let out = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      child.stdout?.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (/"event":"ready"/.test(out)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => resolve(false));
    });
    assert.ok(ready, `the installed knockgated did not get ready: ${out}`);
    const table = tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'kginstalled']);
    assert.match(table, /7001/);
  });

  it('without a compiler the install succeeds, the client works, and the daemon says how to build its parts', () => {
    const prefix = join(dir, 'client-only');
    const r = install(prefix, { ...process.env, CC: '/nonexistent/cc' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the daemon's native parts were not built/);
    const key = join(dir, 'server.key');
    const keygen = sh(join(prefix, 'bin', 'knockgate'), ['keygen', '-o', key]);
    assert.equal(keygen.status, 0, keygen.stderr);
    assert.match(keygen.stdout, /public key: /);
    const config = join(dir, 'client-only.yaml');
    writeFileSync(
      config,
      [
        'interfaces: [lo]',
        'firewall: none',
        'nft_table: kgclientonly',
        'audit_log: audit.jsonl', // not the host's /var/log (the daemon opens it before it finds its parts missing)
        'doors:',
        '  - name: cmd',
        '    sequence: [7001]',
        '    start_command: [/bin/true]',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const daemon = sh(join(prefix, 'bin', 'knockgated'), ['-c', config]);
    assert.notEqual(daemon.status, 0);
    assert.match(daemon.stderr, /build-native\.sh/);
  });
});
