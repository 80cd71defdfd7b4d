/**
 * Covers src/config/trusted-file.ts through every reader that uses it, on real temp files (the
 * tests run as root, so "foreign-owned" is a chown to uid 65534, nobody):
 *   the YAML config (loadConfig), a knockd.conf (readConfigFile, as --knockd-conf reads it), an
 *   fwknop access.conf and a file it %includes, the server key, a client credential, a one-time
 *   sequence file, the pending stop commands file: each is refused (ConfigError, exit 78, naming
 *   the file) when group- or world-writable, when owned by neither root nor the user we run as,
 *   and when a directory leading to it is writable by others (not sticky) or foreign-owned,
 *   also through a symbolic link; a sticky world-writable directory (like /tmp) is accepted.
 *   openNoFollow (pid_file, log_file through createLogger): a symbolic link is refused and its
 *   target left untouched.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, readConfigFile } from '../../src/config/load.js';
import { importAccessConf } from '../../src/config/fwknop-access-conf.js';
import { openNoFollow } from '../../src/config/trusted-file.js';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';
import { createLogger } from '../../src/daemon/json-logger.js';
import {
  CLIENT_CREDENTIAL_KIND,
  readClientCredential,
  readServerKey,
  SERVER_KEY_KIND,
} from '../../src/stores/key-files.js';
import { OneTimeSequenceFile } from '../../src/stores/one-time-sequence-file.js';
import { PendingCommandsFile } from '../../src/stores/pending-commands.js';

const NOBODY = 65534;
const TMP = mkdtempSync(join(tmpdir(), 'kg-trusted-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
let counter = 0;
/** A fresh 0700 directory of root's. */
function freshDir(): string {
  const d = join(TMP, `d${++counter}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
}

const b64u = (n: number): string => randomBytes(n).toString('base64url');

/** One kind of trusted file: how to write a good one, and how to read it as knockgate does. */
interface Kind {
  readonly name: string;
  readonly text: () => string;
  readonly read: (file: string) => unknown;
}

const KINDS: Kind[] = [
  {
    name: 'the YAML config',
    text: () => 'interfaces: [lo]\ndoors:\n  - name: ssh\n    sequence: [1, 2, 3]\n    open: [22/tcp]\n',
    read: (f) => loadConfig(f),
  },
  {
    name: 'a knockd.conf (--knockd-conf)',
    text: () => '[options]\n[openSSH]\n\tsequence = 7000,8000,9000\n\tcommand = /bin/true\n',
    read: (f) => readConfigFile(f),
  },
  {
    name: 'an fwknop access.conf',
    text: () =>
      `SOURCE ANY\nKEY_BASE64 ${randomBytes(32).toString('base64')}\nHMAC_KEY_BASE64 ${randomBytes(64).toString('base64')}\n`,
    read: (f) => importAccessConf(f),
  },
  {
    name: 'the server key',
    text: () => `kind: ${SERVER_KEY_KIND}\nprivate_key: ${b64u(32)}\n`,
    read: (f) => readServerKey(f),
  },
  {
    name: 'a client credential',
    text: () =>
      `kind: ${CLIENT_CREDENTIAL_KIND}\nname: me\nport: 62201\nserver_public_key: ${b64u(32)}\nclient_id: ${b64u(16)}\ndoor_id: ssh\npsk: ${b64u(32)}\n`,
    read: (f) => readClientCredential(f),
  },
  { name: 'a one-time sequence file', text: () => '1,2,3\n4,5,6\n', read: (f) => OneTimeSequenceFile.load(f) },
  {
    name: 'the pending stop commands file',
    text: () => '{"format":"knockgate-pending-commands/1","pending":[]}\n',
    read: (f) => PendingCommandsFile.open(f),
  },
];

function put(dir: string, kind: Kind, mode = 0o600): string {
  const file = join(dir, 'file.conf');
  writeFileSync(file, kind.text(), { mode });
  chmodSync(file, mode);
  return file;
}

function refused(fn: () => unknown, file: string, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.exitCode, 78);
    assert.equal(err.file, file);
    assert.match(err.detail, detail);
    return true;
  });
}

describe('trusted files: owner and writability', () => {
  for (const kind of KINDS) {
    describe(kind.name, () => {
      it('a good file (0600, root, in a 0700 directory) is accepted', () => {
        kind.read(put(freshDir(), kind));
      });

      it('is refused when group-writable (0620) or world-writable (0602)', () => {
        for (const mode of [0o620, 0o602]) {
          const file = put(freshDir(), kind, mode);
          refused(() => kind.read(file), file, /writable by group or others \(mode 06[02][02]\).*chmod go-w/);
        }
      });

      it('is refused when owned by neither root nor the user knockgate runs as', () => {
        const file = put(freshDir(), kind);
        chownSync(file, NOBODY, NOBODY);
        refused(
          () => kind.read(file),
          file,
          new RegExp(`owned by uid ${NOBODY}, neither root nor the user knockgate runs as`),
        );
      });

      it('is refused when its directory is writable by others (0777) or owned by another user', () => {
        const open = freshDir();
        const file = put(open, kind);
        chmodSync(open, 0o777);
        refused(() => kind.read(file), file, /its directory .* is writable by group or others \(mode 0777\)/);
        const foreign = freshDir();
        const file2 = put(foreign, kind);
        chownSync(foreign, NOBODY, NOBODY);
        refused(() => kind.read(file2), file2, new RegExp(`its directory .* is owned by uid ${NOBODY}`));
      });

      it('is accepted in a sticky world-writable directory (1777, like /tmp)', () => {
        const sticky = freshDir();
        const file = put(sticky, kind);
        chmodSync(sticky, 0o1777);
        kind.read(file);
      });
    });
  }

  it('a symbolic link is judged by both paths: the one given and the one it resolves to', () => {
    const kind = KINDS[0] as Kind;
    // Link in a trusted directory, file in a world-writable one.
    const open = freshDir();
    const target = put(open, kind);
    chmodSync(open, 0o777);
    const link = join(freshDir(), 'knockgate.yaml');
    symlinkSync(target, link);
    refused(() => kind.read(link), link, /its directory .* is writable by group or others/);
    // Link in a world-writable directory (anyone could point it elsewhere), file in a trusted one.
    const good = put(freshDir(), kind);
    const linkDir = freshDir();
    const link2 = join(linkDir, 'knockgate.yaml');
    symlinkSync(good, link2);
    chmodSync(linkDir, 0o777);
    refused(() => kind.read(link2), link2, new RegExp(`its directory ${linkDir} is writable`));
  });

  it('a file %included by an access.conf is checked too, and the error names the %include line', () => {
    const dir = freshDir();
    const inc = join(dir, 'keys.conf');
    const stanza = (): string =>
      `SOURCE ANY\nKEY_BASE64 ${randomBytes(32).toString('base64')}\nHMAC_KEY_BASE64 ${randomBytes(64).toString('base64')}\n`;
    writeFileSync(inc, stanza(), { mode: 0o600 });
    const top = join(dir, 'access.conf');
    writeFileSync(top, `%include ${inc}\n${stanza()}`, { mode: 0o600 });
    importAccessConf(top);
    chmodSync(inc, 0o660);
    assert.throws(
      () => importAccessConf(top),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.file === top &&
        err.line === 1 &&
        err.key === '%include' &&
        /keys\.conf is writable by group or others/.test(err.detail),
    );
  });

  it('the pending stop commands: a world-writable state directory is refused before the first record is written', () => {
    const state = freshDir();
    chmodSync(state, 0o777);
    const file = join(state, 'pending-commands.json');
    refused(() => PendingCommandsFile.open(file), file, /its directory .* is writable by group or others/);
  });
});

describe('files knockgate writes (pid_file, log_file): no symbolic link followed', () => {
  it('openNoFollow refuses a symbolic link with a clear error and leaves its target alone', () => {
    const dir = freshDir();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    const pid = join(dir, 'knockgated.pid');
    symlinkSync(victim, pid);
    assert.throws(
      () => openNoFollow(pid, constants.O_WRONLY | constants.O_TRUNC, 0o644, 'PID file'),
      (err: unknown) =>
        err instanceof KnockgateError &&
        err.code === 'KG_STATE_WRITE_FAILED' &&
        err.message.includes(pid) &&
        /symbolic link/.test(err.message),
    );
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  });

  it('createLogger refuses a log_file that is a symbolic link, or a file of another user', () => {
    const dir = freshDir();
    const victim = join(dir, 'shadow');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    const log = join(dir, 'knockgated.log');
    symlinkSync(victim, log);
    assert.throws(
      () => createLogger('info', { file: log, stdout: false }),
      (err: unknown) =>
        err instanceof KnockgateError && err.code === 'KG_STATE_WRITE_FAILED' && /symbolic link/.test(err.message),
    );
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    const foreign = join(dir, 'other.log');
    writeFileSync(foreign, '');
    chownSync(foreign, NOBODY, NOBODY);
    assert.throws(
      () => createLogger('info', { file: foreign, stdout: false }),
      (err: unknown) =>
        err instanceof KnockgateError &&
        err.code === 'KG_STATE_WRITE_FAILED' &&
        new RegExp(`owned by uid ${NOBODY}`).test(err.message),
    );
  });
});
