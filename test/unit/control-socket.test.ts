/**
 * The control socket end to end in one process: control/server.ts on a real Unix socket in a
 * temporary directory, control/client.ts asking it, and the checks between them (protocol.ts,
 * core/grant-selector.ts). What an operator observes: the answer, or the error code and message
 * the client exits with; the socket's mode; what happens to a file that is not a socket.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { askDaemon } from '../../src/control/client.js';
import { parseControlRequest } from '../../src/control/protocol.js';
import { type ControlSocket, openControlSocket } from '../../src/control/server.js';
import { KnockgateError } from '../../src/core/errors.js';
import { parseGrantSelector, selectsGrant } from '../../src/core/grant-selector.js';
import { MAX_CONTROL_REQUEST_BYTES } from '../../src/core/limits.js';
import { MemoryLogger } from '../../src/ports/logger.js';

const rawExchange = (path: string, bytes: string, halfClose = false): Promise<string> =>
  new Promise((resolve, reject) => {
    const s = connect(path, () => (halfClose ? s.end(bytes) : s.write(bytes)));
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
  });

describe('control socket', () => {
  let dir: string;
  let path: string;
  let control: ControlSocket;
  const seen: unknown[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kg-control-'));
    path = join(dir, 'knockgate.1.sock');
    control = await openControlSocket(
      path,
      async (r) => {
        seen.push(r);
        if (r.op === 'revoke') throw new KnockgateError('KG_NO_MATCH', 'no live grant matches');
        if (r.op === 'extend') throw new Error('a bug');
        return { op: r.op, operator: r.operator };
      },
      new MemoryLogger(),
    );
  });
  after(async () => {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a socket with mode 0600; a request gets its answer', async () => {
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual(await askDaemon(path, { op: 'status', operator: 'ops' }), { op: 'status', operator: 'ops' });
  });

  it("the daemon's error reaches the client with its code (and so its exit status); a bug is KG_CONTROL_FAILED", async () => {
    await assert.rejects(askDaemon(path, { op: 'revoke', select: { all: true } }), (e: KnockgateError) => {
      assert.equal(e.code, 'KG_NO_MATCH');
      assert.equal(e.exitCode, 1);
      return true;
    });
    await assert.rejects(
      askDaemon(path, { op: 'extend', select: { all: true }, duration_s: 5 }),
      (e: KnockgateError) => {
        assert.equal(e.code, 'KG_CONTROL_FAILED');
        assert.match(e.message, /a bug/);
        return true;
      },
    );
  });

  it('a malformed, unknown, oversized or other-version request is answered with a named error and never handled', async () => {
    const before = seen.length;
    const answers = await Promise.all([
      rawExchange(path, 'not json\n'),
      rawExchange(path, '{"v":1,"op":"reboot"}\n'),
      rawExchange(path, '{"v":2,"op":"status"}\n'),
      rawExchange(path, '{"v":1,"op":"status","extra":1}\n'),
      rawExchange(path, `{"v":1,"op":"status","operator":"${'a'.repeat(MAX_CONTROL_REQUEST_BYTES)}"}\n`),
      rawExchange(path, '{"v":1,"op":"status"}', true), // no newline, and the client half-closes
    ]);
    const parsed = answers.map((a) => JSON.parse(a) as { ok: boolean; error: { code: string; message: string } });
    assert.deepEqual(
      parsed.map((a) => [a.ok, a.error.code]),
      Array(6).fill([false, 'KG_USAGE']),
    );
    assert.match(parsed[0]?.error.message ?? '', /not JSON/);
    assert.match(parsed[2]?.error.message ?? '', /version 2/);
    assert.match(parsed[4]?.error.message ?? '', /over 65536 bytes/);
    assert.match(parsed[5]?.error.message ?? '', /without a newline/);
    assert.equal(seen.length, before);
  });

  it('no daemon: KG_CONTROL_UNAVAILABLE (exit 69) naming the path', async () => {
    await assert.rejects(askDaemon(join(dir, 'absent.sock'), { op: 'status' }), (e: KnockgateError) => {
      assert.equal(e.code, 'KG_CONTROL_UNAVAILABLE');
      assert.equal(e.exitCode, 69);
      assert.match(e.message, /not running .*absent\.sock/);
      return true;
    });
  });

  it("a stale socket (a dead daemon's) is replaced; a regular file at the path is refused and left alone", async () => {
    const stale = join(dir, 'stale.sock');
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(stale, r));
    // Close without unlinking, as a killed process leaves it.
    const handle = (dead as unknown as { _handle: { close(): void } })._handle;
    handle.close();
    const replaced = await openControlSocket(stale, async () => 'fresh', new MemoryLogger());
    assert.equal(await askDaemon(stale, { op: 'status' }), 'fresh');
    await replaced.close();

    const file = join(dir, 'file.sock');
    writeFileSync(file, 'keep me');
    await assert.rejects(
      openControlSocket(file, async () => null, new MemoryLogger()),
      /not a socket/,
    );
    assert.ok(statSync(file).isFile(), 'left alone');
  });
});

describe('control protocol and grant selectors', () => {
  it('parses the five requests and refuses control characters and out-of-range durations', () => {
    assert.equal((parseControlRequest('{"v":1,"op":"grants"}') as { op: string }).op, 'grants');
    assert.ok('error' in parseControlRequest('{"v":1,"op":"extend","select":{"all":true},"duration_s":0}'));
    assert.ok('error' in parseControlRequest('{"v":1,"op":"extend","select":{"all":true},"duration_s":86401}'));
    assert.ok('error' in parseControlRequest('{"v":1,"op":"open","door":"d","source":"a","reason":"line\\nbreak"}'));
    assert.ok(!('error' in parseControlRequest('{"v":1,"op":"open","door":"d","source":"a","reason":"ticket 42"}')));
  });

  it('a prefix selects the grants inside it, not wider ones; criteria are ANDed; all goes alone', () => {
    const sel = (input: Parameters<typeof parseGrantSelector>[0]) => {
      const s = parseGrantSelector(input);
      assert.ok(!('error' in s), JSON.stringify(s));
      return s;
    };
    const g = (source: string, door = 'ssh', client?: string) => ({ id: '0123456789abcdef', door, source, client });
    const net = sel({ source: '198.18.0.0/24' });
    assert.equal(selectsGrant(net, g('198.18.0.7')), true);
    assert.equal(selectsGrant(net, g('198.18.0.128/25')), true);
    assert.equal(selectsGrant(net, g('198.18.0.0/16')), false, 'wider than named');
    assert.equal(selectsGrant(net, g('198.18.1.7')), false);
    assert.equal(selectsGrant(net, g('2001:db8::1')), false, 'other family');
    assert.equal(selectsGrant(sel({ source: '2001:db8::/32' }), g('2001:db8:1::/48')), true);
    assert.equal(selectsGrant(sel({ source: '198.18.0.7', door: 'web' }), g('198.18.0.7')), false, 'ANDed');
    assert.equal(selectsGrant(sel({ client: 'alice' }), g('198.18.0.7', 'ssh', 'alice')), true);
    assert.equal(selectsGrant(sel({ id: '01234567' }), g('198.18.0.7')), true, 'an 8-character id prefix');
    assert.equal(selectsGrant(sel({ id: '0123456' }), g('198.18.0.7')), false, 'shorter is not enough');
    assert.ok('error' in parseGrantSelector({}));
    assert.ok('error' in parseGrantSelector({ all: true, door: 'ssh' }));
    assert.ok('error' in parseGrantSelector({ source: '198.18.0.0/33' }));
  });
});
