/**
 * Covers src/client/passphrase-prompt.ts on a real pseudo-terminal (util-linux `script`, see
 * test/support/pty-session.ts), through the real CLI: `knockgate passphrase FILE` asks twice
 * without echo and protects the file; Backspace and Ctrl-U edit the line; two different entries
 * write nothing; `knockgate knock` asks on /dev/tty even when stdin is not the terminal (ssh's
 * ProxyCommand), fails a wrong passphrase with exit 77 in one line, and Ctrl-C cancels with 66;
 * after each, the terminal has echo and line mode back, also when it is killed while asking. Without a controlling terminal (setsid),
 * the prompt says to use --passphrase-fd. The knocks go to 127.0.0.1 only.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { openCredentialFile } from '../../src/client/open-credential.js';
import { editLine } from '../../src/client/passphrase-prompt.js';
import { KNOCKGATE } from '../support/daemon-process.js';
import { runInPty, shellQuote } from '../support/pty-session.js';
import { useTempDir } from '../support/temp-dir.js';

const range = (a: number, b: number): string =>
  Buffer.from(Array.from({ length: b - a }, (_, i) => a + i)).toString('base64url');
const CLEAR = [
  'kind: knockgate-client-v1',
  'name: "laptop"',
  'port: 9',
  `server_public_key: ${range(32, 64)}`,
  'door_id: "ssh"',
  `client_id: ${range(64, 80)}`,
  `private_key: ${range(96, 128)}`,
  '',
].join('\n');
const NEW = 'new pass phrase';

const tmp = useTempDir('knockgate-prompt-');
let file: string;
beforeEach(() => {
  file = tmp.put('laptop.yaml', CLEAR);
});

const cli = (...args: string[]): string => [process.execPath, KNOCKGATE, ...args].map(shellQuote).join(' ');
/** `stty -a` after the command, on the same terminal: echo and icanon must be back on. */
const thenStty = (cmd: string): string => `${cmd}; echo "status=$?"; stty -a`;
function assertTerminalRestored(output: string): void {
  assert.match(output, /(^|\s)echo(\s|$)/, 'echo is on again');
  assert.match(output, /(^|\s)icanon(\s|$)/, 'line mode is on again');
}
const opensWith = async (passphrase: string): Promise<void> => {
  const fdFile = tmp.put('fd', `${passphrase}\n`);
  const cred = await openCredentialFile(file, { passphraseFd: openSync(fdFile, 'r') });
  assert.equal(cred.name, 'laptop');
};

describe('the passphrase prompt, on a real terminal', () => {
  it('knockgate passphrase FILE asks twice without echo, then the file opens with that passphrase only', async () => {
    const run = await runInPty(thenStty(cli('passphrase', file)), [`${NEW}\r`, `${NEW}\r`]);
    assert.match(run.output, new RegExp(`new passphrase for ${file}: \\r\\nthe same again: \\r\\n`));
    assert.match(run.output, /protected with a passphrase: /);
    assert.match(run.output, /status=0/);
    assert.ok(!run.output.includes('pass phrase'), `no echo: ${JSON.stringify(run.output)}`);
    assertTerminalRestored(run.output);
    assert.match(readFileSync(file, 'utf8'), /^sealed:/m);
    await opensWith(NEW);
  });

  it('Backspace (also over a multi-byte character) and Ctrl-U edit the line', async () => {
    const run = await runInPty(cli('passphrase', file), [
      `${NEW.slice(0, -1)}é\x7f${NEW.slice(-1)}\r`,
      `garbage\x15${NEW}\r`,
    ]);
    assert.equal(run.status, 0, run.output);
    await opensWith(NEW);
  });

  it('two different entries: exit 66, nothing written', async () => {
    const run = await runInPty(cli('passphrase', file), [`${NEW}\r`, `${NEW}!\r`]);
    assert.equal(run.status, 66, run.output);
    assert.match(run.output, /knockgate: the two passphrases typed differ; nothing was written/);
    assert.equal(readFileSync(file, 'utf8'), CLEAR);
  });

  describe('knock with a protected credential', () => {
    beforeEach(async () => {
      const fdFile = tmp.put('new', `${NEW}\n`);
      const r = spawnSync(process.execPath, [KNOCKGATE, 'passphrase', file, '--new-passphrase-fd', '3'], {
        stdio: ['ignore', 'pipe', 'pipe', openSync(fdFile, 'r')],
      });
      assert.equal(r.status, 0, r.stderr.toString());
    });

    it('asks on the terminal even when stdin is not it, and knocks', async () => {
      const run = await runInPty(thenStty(`${cli('knock', '-v', '--credential', file, '127.0.0.1')} </dev/null`), [
        `${NEW}\r`,
      ]);
      assert.match(
        run.output,
        new RegExp(`passphrase for ${file}: \\r\\nSPA to 127\\.0\\.0\\.1 port 9/udp\\r\\n {2}client: +laptop `),
      );
      assert.match(run.output, /status=0/);
      assertTerminalRestored(run.output);
    });

    it('a wrong passphrase: one line naming the file, exit 77, nothing sent', async () => {
      const run = await runInPty(thenStty(cli('knock', '-v', '--credential', file, '127.0.0.1')), [
        'not the passphrase\r',
      ]);
      const lines = run.output.split('\r\n');
      assert.equal(
        lines[1],
        `knockgate: ${file}: the passphrase does not open this credential (a wrong passphrase, or the file was changed after it was protected)`,
      );
      assert.match(lines[2] ?? '', /^status=77$/);
      assert.doesNotMatch(run.output, /sent SPA/);
      assertTerminalRestored(run.output);
    });

    it('Ctrl-C cancels: exit 66, the terminal restored', async () => {
      const run = await runInPty(thenStty(cli('knock', '--credential', file, '127.0.0.1')), ['abc\x03']);
      assert.match(run.output, /knockgate: no passphrase given \(cancelled\)\r\nstatus=66/);
      assertTerminalRestored(run.output);
    });

    it('killed (SIGTERM) while it asks: it dies of the signal, and the terminal is not left raw', async () => {
      // stdio away from the terminal: the mode to restore is that of the /dev/tty it opened.
      const knock = `${cli('knock', '--credential', file, '127.0.0.1')} </dev/null >/dev/null 2>&1`;
      const run = await runInPty(
        `${knock} & pid=$!; sleep 1.5; kill -TERM $pid; wait $pid; echo "status=$?"; stty -a`,
        [],
      );
      assert.match(run.output, new RegExp(`passphrase for ${file}: `));
      assert.match(run.output, /status=143/);
      assertTerminalRestored(run.output);
    });

    it('a profile named after the host is opened the same way (--passphrase-fd 0)', () => {
      const profiles = tmp.path('config/knockgate/profiles');
      mkdirSync(profiles, { recursive: true, mode: 0o700 });
      copyFileSync(file, join(profiles, '127.0.0.1.yaml'));
      const env = { ...process.env, XDG_CONFIG_HOME: tmp.path('config') };
      const knock = (input: string) =>
        spawnSync(process.execPath, [KNOCKGATE, 'knock', '-v', '--passphrase-fd', '0', '127.0.0.1'], { env, input });
      const right = knock(`${NEW}\n`);
      assert.equal(right.status, 0, right.stderr.toString());
      assert.match(right.stdout.toString(), /^SPA to 127\.0\.0\.1 port 9\/udp\n {2}client: +laptop /);
      const wrong = knock('wrong\n');
      assert.equal(wrong.status, 77);
      assert.match(wrong.stderr.toString(), /127\.0\.0\.1\.yaml: the passphrase does not open this credential/);
    });

    it('without a controlling terminal: exit 66, telling to use --passphrase-fd', () => {
      const r = spawnSync('setsid', ['-w', process.execPath, KNOCKGATE, 'knock', '--credential', file, '127.0.0.1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.equal(r.status, 66);
      assert.match(
        r.stderr.toString(),
        /^knockgate: no terminal to ask for the passphrase on \(ENXIO\); give it with --passphrase-fd N\n$/,
      );
    });
  });
});

describe('editLine', () => {
  it('ends at Enter, cancels on Ctrl-C and on Ctrl-D at an empty line, drops other control bytes', () => {
    const line: number[] = [];
    assert.equal(editLine(line, Buffer.from('ab\x1b[Dc')), 'more');
    assert.equal(Buffer.from(line).toString(), 'ab[Dc', 'ESC dropped (the rest is typed text)');
    assert.equal(editLine(line, Buffer.from('\x04')), 'more', 'Ctrl-D on a non-empty line is ignored');
    assert.equal(editLine(line, Buffer.from('\n')), 'done');
    assert.equal(editLine([], Buffer.from('\x04')), 'cancel');
    assert.equal(editLine([0x61], Buffer.from('\x03')), 'cancel');
  });
});
