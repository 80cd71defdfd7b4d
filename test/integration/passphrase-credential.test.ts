/**
 * Passphrase-protected credentials end to end, in network namespaces with the real knockgated and
 * nftables: credentials protected three ways (`knockgate passphrase FILE` over an add-client one,
 * `add-client --passphrase`, and a client's own key pair from `keygen --client --passphrase`),
 * then `knockgate knock` and `connect` from the client namespace with the passphrase from
 * --passphrase-fd and typed at a real terminal (util-linux script, test/support/pty-session.ts).
 * A wrong passphrase prints one line naming the file, exits 77, sends nothing (the daemon sees no
 * datagram) and opens nothing.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { clientEntryYaml } from '../support/client-entry.js';
import { KNOCKGATE, probe, sleep } from '../support/daemon-process.js';
import { runInPty, shellQuote } from '../support/pty-session.js';
import { useScenario } from '../support/scenario.js';

const PASS = 'a long passphrase for the stick';
const WRONG_LINE = (file: string): string =>
  `knockgate: ${file}: the passphrase does not open this credential (a wrong passphrase, or the file was changed after it was protected)\n`;

/** knockgate with `input` on stdin, outside any namespace; throws unless it exits 0. */
function cliWithInput(args: readonly string[], input: string): string {
  const r = spawnSync(process.execPath, [KNOCKGATE, ...args], { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`knockgate ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('passphrase-protected credentials', () => {
  const printed: Record<string, string> = {};
  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: { alice: ['--door', 'ssh'] },
    files: (sc) => {
      // alice: made in clear by add-client, then protected.
      cliWithInput(['passphrase', sc.cred('alice'), '--new-passphrase-fd', '0'], `${PASS}\n`);
      // carol: protected from the start by add-client.
      printed.carol = cliWithInput(
        [
          'add-client',
          'carol',
          '-k',
          sc.path('server.key'),
          '--door',
          'ssh',
          '--passphrase-fd',
          '0',
          '-o',
          sc.cred('carol'),
        ],
        `${PASS}\n`,
      );
      // dave: the client makes its own key pair, from the public key the server's keygen printed.
      const serverPublic =
        /public key, for clients: (\S+)/.exec(readFileSync(sc.path('server.key'), 'utf8'))?.[1] ?? '';
      printed.dave = cliWithInput(
        ['keygen', '--client', '--name', 'dave', '--door', 'ssh', '--server-public-key', serverPublic].concat([
          '--passphrase-fd',
          '0',
          '-o',
          sc.cred('dave'),
        ]),
        `${PASS}\n`,
      );
      return { 'pass.txt': `${PASS}\n`, 'wrong.txt': 'not the passphrase\n' };
    },
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 4s',
      '    clients:',
      ...clientEntry('alice'),
      ...clientEntryYaml(printed.carol ?? ''),
      ...clientEntryYaml(printed.dave ?? ''),
    ],
  });
  const { tb, daemon, cred, path } = s;
  const server = () => tb.server.clientSide.v4;
  const inClient = (argv: readonly string[], input?: string) =>
    spawnSync('ip', ['netns', 'exec', tb.client.ns, process.execPath, KNOCKGATE, ...argv], {
      encoding: 'utf8',
      ...(input !== undefined ? { input } : {}),
      timeout: 30_000,
    });
  const spaEventsSince = (n: number) => daemon.lines.slice(n).filter((l) => l.event === 'spa' || l.event === 'grant');
  const grantFor = (client: string) =>
    daemon.waitFor((l) => l.event === 'grant' && l.client === client, 5000, `the grant for ${client}`);

  it('the files hold no secret in clear', () => {
    for (const who of ['alice', 'carol', 'dave']) {
      const text = readFileSync(cred(who), 'utf8');
      assert.match(text, /^sealed: .*\n {2}kdf: scrypt$/m, who);
      assert.doesNotMatch(text, /^(psk|private_key):/m, who);
    }
  });

  it('a wrong passphrase (--passphrase-fd): one line naming the file, exit 77, nothing sent, nothing opened', async () => {
    const before = daemon.lines.length;
    const r = inClient(['knock', '-v', '--credential', cred('alice'), '--passphrase-fd', '0', server()], 'not it\n');
    assert.equal(r.status, 77);
    assert.equal(r.stderr, WRONG_LINE(cred('alice')));
    assert.equal(r.stdout, '');
    await sleep(1000);
    assert.deepEqual(spaEventsSince(before), [], 'the daemon saw no datagram');
    assert.equal(probe(tb, tb.client.ns, server(), 22).outcome, 'timeout');
  });

  it('a wrong passphrase typed at the terminal: the same line and status, nothing opened', async () => {
    const before = daemon.lines.length;
    const knock = [process.execPath, KNOCKGATE, 'knock', '--credential', cred('carol'), server()].map(shellQuote);
    const run = await runInPty(`${knock.join(' ')}; echo "status=$?"`, ['not it either\r'], {
      wrap: ['ip', 'netns', 'exec', tb.client.ns],
    });
    assert.match(run.output, new RegExp(`passphrase for ${cred('carol')}: \\r\\n`));
    assert.ok(run.output.includes(`${WRONG_LINE(cred('carol')).trimEnd()}\r\nstatus=77`), run.output);
    await sleep(1000);
    assert.deepEqual(spaEventsSince(before), []);
    assert.equal(probe(tb, tb.client.ns, server(), 22).outcome, 'timeout');
  });

  it('the right passphrase from --passphrase-fd opens the port (a credential protected by knockgate passphrase)', async () => {
    const r = inClient(['knock', '--credential', cred('alice'), '--passphrase-fd', '0', server()], `${PASS}\n`);
    assert.equal(r.status, 0, r.stderr);
    const grant = await grantFor('alice');
    assert.equal(grant.source, tb.client.v4);
    assert.equal(probe(tb, tb.client.ns, server(), 22).outcome, 'open');
  });

  it('the right passphrase typed at the terminal opens the port (a credential from add-client --passphrase)', async () => {
    const knock = [process.execPath, KNOCKGATE, 'knock', '-v', '--credential', cred('carol'), server()].map(shellQuote);
    const run = await runInPty(`${knock.join(' ')} </dev/null; echo "status=$?"`, [`${PASS}\r`], {
      wrap: ['ip', 'netns', 'exec', tb.client.ns],
    });
    assert.match(run.output, /SPA to .* port 62201\/udp\r\n {2}client: +carol [\s\S]*\r\nstatus=0/);
    assert.ok(!run.output.includes(PASS), 'the passphrase was not echoed');
    await grantFor('carol');
  });

  it('connect, as ssh ProxyCommand, with --passphrase-fd on another descriptor (a client-made key, keygen --client)', async () => {
    // stdin and stdout are the relay; the passphrase comes on another descriptor.
    const connect = (fd: number, passFile: string) =>
      spawnSync(
        'ip',
        ['netns', 'exec', tb.client.ns, 'sh', '-c'].concat(
          `${[
            process.execPath,
            KNOCKGATE,
            'connect',
            '--credential',
            cred('dave'),
            '--passphrase-fd',
            String(fd),
            server(),
            '22',
          ]
            .map(shellQuote)
            .join(' ')} ${fd}<${shellQuote(path(passFile))} </dev/null`,
        ),
        { encoding: 'utf8', timeout: 30_000 },
      );
    const wrong = connect(4, 'wrong.txt');
    assert.equal(wrong.status, 77);
    assert.equal(wrong.stderr, WRONG_LINE(cred('dave')));
    assert.equal(wrong.stdout, '');
    const r = connect(3, 'pass.txt');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^SSH-2\.0-knockgate-standin/);
    await grantFor('dave');
  });

  it('a protected credential readable by others is refused before any passphrase is asked', () => {
    const copy = path('open.yaml');
    writeFileSync(copy, readFileSync(cred('alice')), { mode: 0o644 });
    const r = inClient(['knock', '--credential', copy, server()]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /readable by group or others/);
    assert.doesNotMatch(r.stderr, /passphrase for/);
  });
});
