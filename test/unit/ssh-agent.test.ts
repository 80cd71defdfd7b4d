/**
 * Covers SPA mode ssh-ed25519 (an Ed25519 key held by ssh-agent), with the real OpenSSH tools:
 *   src/core/ssh/sshsig.ts            the SSHSIG wrapper is OpenSSH's: a proof made by `ssh-keygen
 *                                     -Y sign -n knockgate-spa@v1` opens a datagram, one made with
 *                                     `-n file` does not, and `ssh-keygen -Y check-novalidate` accepts
 *                                     the proof knockgate's client gets from the agent
 *   src/client/ssh-agent.ts           agentSign against a real ssh-agent (signs; key not added;
 *                                     confirmation denied; no SSH_AUTH_SOCK; socket gone) and against
 *                                     a misbehaving agent (a Unix socket server here): oversized,
 *                                     silent, closing, a signature that does not verify
 *   src/core/ssh/ssh-public-key.ts    the .pub files ssh-keygen writes; other key types refused by name
 *   src/client/provision.ts, src/stores/ssh-key-credential.ts, src/config/compile/spa-door.ts
 *                                     add-client with an ssh key: the credential and the entry, loaded
 *                                     by the config compiler, and a datagram the agent signed opens
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addClient, createServerKey } from '../../src/client/provision.js';
import { spaAskLines } from '../../src/client/spa-ask-text.js';
import { makeSpaDatagram } from '../../src/client/spa-sender.js';
import { agentSign, agentSocketPath } from '../../src/client/ssh-agent.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';
import { ed25519PublicFromRaw } from '../../src/core/spa/keys.js';
import type { SpaClientKey } from '../../src/core/spa/native-client-auth.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import { openSpa, prepareSeal } from '../../src/core/spa/native-wire.js';
import {
  parseSshPublicKeyLine,
  sshKeyFingerprint,
  sshPublicKeyLine,
  type SshEd25519PublicKey,
} from '../../src/core/ssh/ssh-public-key.js';
import { SPA_SSHSIG_NAMESPACE } from '../../src/core/ssh/sshsig.js';
import { readClientCredential, readServerKey } from '../../src/stores/key-files.js';
import { readSshPublicKeyFile } from '../../src/stores/ssh-key-credential.js';
import { parseSshsigArmor, sshsigArmor } from '../support/sshsig-armor.js';
import { sshKeygen, sshKeygenSign, startSshAgent, type AgentProcess } from '../support/ssh-agent-process.js';

const SERVER = serverKeysFromPrivate(Buffer.alloc(32, 0x3c), 'ssh');
const CID = Buffer.alloc(16, 0x42);
const DATA = Buffer.from('what the agent is asked to sign');

let dir: string;
let keyFile: string;
let key: SshEd25519PublicKey;
let otherKey: SshEd25519PublicKey;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kg-ssh-'));
  keyFile = join(dir, 'id_ed25519');
  sshKeygen(keyFile);
  sshKeygen(join(dir, 'other'));
  key = readSshPublicKeyFile(`${keyFile}.pub`);
  otherKey = readSshPublicKeyFile(join(dir, 'other.pub'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const clientOf = (k: SshEd25519PublicKey, mode: SpaClientKey['mode'] = 'ssh-ed25519'): SpaClientKey => ({
  id: CID,
  mode,
  publicKey: ed25519PublicFromRaw(k.raw),
});
function prepared() {
  return prepareSeal({
    serverPublicKey: SERVER.publicKey,
    doorId: 'ssh',
    clientId: CID,
    mode: 'ssh-ed25519',
    request: {
      timestampMs: 1_767_225_600_000,
      nonce: Buffer.alloc(16, 7),
      durationS: 60,
      address: null,
      prefix: 0,
      ports: [{ proto: 'tcp', port: 22 }],
    },
    ephemeralPrivate: Buffer.alloc(32, 9),
    topBit: 1,
  });
}
const reasonOf = (d: Uint8Array, client: SpaClientKey): string => {
  const r = openSpa(d, SERVER, (id) => (id === CID.toString('hex') ? client : undefined));
  return r.ok ? 'ok' : r.reason;
};
async function rejectsWith(p: Promise<unknown>, code: string, exit: number, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof KnockgateError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.exitCode, exit);
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

describe('SSHSIG wrapper against the real ssh-keygen', () => {
  it('a proof made by `ssh-keygen -Y sign -n knockgate-spa@v1` over the transcript opens the datagram; `-n file` does not', () => {
    const p = prepared();
    const armor = parseSshsigArmor(sshKeygenSign(keyFile, SPA_SSHSIG_NAMESPACE, p.transcript));
    assert.equal(armor.namespace, SPA_SSHSIG_NAMESPACE);
    assert.equal(armor.hashAlgorithm, 'sha512');
    assert.deepEqual(armor.publicKeyBlob, key.blob);
    assert.equal(reasonOf(p.finish(armor.signature), clientOf(key)), 'ok');
    // The same signature does not pass as the plain ed25519 mode (which signs the raw transcript),
    // nor under another key.
    assert.equal(reasonOf(p.finish(armor.signature), clientOf(key, 'ed25519')), 'spa-auth');
    assert.equal(reasonOf(p.finish(armor.signature), clientOf(otherKey)), 'spa-auth');
    const file = parseSshsigArmor(sshKeygenSign(keyFile, 'file', p.transcript));
    assert.equal(file.namespace, 'file');
    assert.equal(reasonOf(p.finish(file.signature), clientOf(key)), 'spa-auth');
  });

  it('`ssh-keygen -Y check-novalidate -n knockgate-spa@v1` accepts the proof the client got from ssh-agent; -n file refuses it', async () => {
    const agent = await startSshAgent();
    try {
      agent.add([keyFile]);
      const p = prepared();
      const signature = await agentSign(key, p.proofMessage, { socketPath: agent.socket });
      assert.equal(reasonOf(p.finish(signature), clientOf(key)), 'ok');
      const sigFile = join(dir, 'proof.sig');
      writeFileSync(
        sigFile,
        sshsigArmor({ publicKeyBlob: key.blob, namespace: SPA_SSHSIG_NAMESPACE, hashAlgorithm: 'sha512', signature }),
      );
      const check = (ns: string) =>
        spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', ns, '-s', sigFile], {
          input: p.transcript,
          encoding: 'utf8',
        });
      const good = check(SPA_SSHSIG_NAMESPACE);
      assert.equal(good.status, 0, good.stderr);
      assert.match(good.stdout, /Good "knockgate-spa@v1" signature/);
      assert.notEqual(check('file').status, 0);
    } finally {
      await agent.stop();
    }
  });
});

describe('agentSign with a real ssh-agent', () => {
  let agent: AgentProcess;
  before(async () => {
    agent = await startSshAgent();
    agent.add([keyFile]);
  });
  after(() => agent.stop());

  it("returns the key's Ed25519 signature over the data", async () => {
    const signature = await agentSign(key, DATA, { socketPath: agent.socket });
    assert.equal(signature.length, 64);
    assert.ok(clientOf(key).publicKey);
    const { verify } = await import('node:crypto');
    assert.ok(verify(null, DATA, ed25519PublicFromRaw(key.raw), signature));
  });

  it('a key the agent does not hold: KG_SSH_AGENT_NO_KEY, exit 66, telling to ssh-add it', async () => {
    await rejectsWith(
      agentSign(otherKey, DATA, { socketPath: agent.socket }),
      'KG_SSH_AGENT_NO_KEY',
      66,
      /not in ssh-agent.*ssh-add/,
    );
  });

  it('no SSH_AUTH_SOCK: KG_SSH_AGENT_UNSET, exit 69', () => {
    assert.throws(
      () => agentSocketPath({}, {}),
      (err: unknown) =>
        err instanceof KnockgateError &&
        err.code === 'KG_SSH_AGENT_UNSET' &&
        err.exitCode === 69 &&
        /SSH_AUTH_SOCK is not set/.test(err.message),
    );
  });

  it('a socket nobody listens on: KG_SSH_AGENT_UNREACHABLE, exit 69', async () => {
    await rejectsWith(
      agentSign(key, DATA, { socketPath: join(dir, 'gone.sock') }),
      'KG_SSH_AGENT_UNREACHABLE',
      69,
      /cannot reach ssh-agent at .*gone\.sock.*no such socket/,
    );
  });
});

describe('agentSign with a key added with ssh-add -c whose confirmation is denied', () => {
  it('KG_SSH_AGENT_REFUSED, exit 77', async () => {
    const agent = await startSshAgent({ askpass: '/bin/false' });
    try {
      agent.add(['-c', keyFile]);
      await rejectsWith(
        agentSign(key, DATA, { socketPath: agent.socket }),
        'KG_SSH_AGENT_REFUSED',
        77,
        /refused to sign/,
      );
    } finally {
      await agent.stop();
    }
  });
});

describe('agentSign with a misbehaving agent', () => {
  /** An "agent" that answers each request with what `answer` returns (null: stays silent, 'close': hangs up). */
  async function fakeAgent(answer: (request: Buffer) => Buffer | null | 'close', run: (path: string) => Promise<void>) {
    const path = join(dir, `fake-${Math.random().toString(16).slice(2)}.sock`);
    const server: Server = createServer((s) => {
      s.on('data', (chunk) => {
        const a = answer(chunk);
        if (a === 'close') s.destroy();
        else if (a !== null) s.write(a);
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      await run(path);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const str = (b: Buffer | string) => Buffer.concat([u32(Buffer.byteLength(b)), Buffer.from(b)]);
  const msg = (type: number, body: Buffer) => Buffer.concat([u32(body.length + 1), Buffer.from([type]), body]);
  const identities = () => msg(12, Buffer.concat([u32(1), str(Buffer.from(key.blob)), str('k')]));
  const signResponse = (sig: Buffer) => msg(14, str(Buffer.concat([str('ssh-ed25519'), str(sig)])));

  it('an answer announced above MAX_SSH_AGENT_ANSWER_BYTES is refused before it is read', async () => {
    await fakeAgent(
      () => u32(1 << 30),
      async (path) =>
        rejectsWith(
          agentSign(key, DATA, { socketPath: path }),
          'KG_SSH_AGENT_FAILED',
          69,
          /announced a 1073741824-byte answer \(limit 262144\)/,
        ),
    );
  });

  it('an agent that never answers: KG_SSH_AGENT_FAILED after the timeout', async () => {
    await fakeAgent(
      () => null,
      async (path) =>
        rejectsWith(
          agentSign(key, DATA, { socketPath: path, timeoutMs: 200 }),
          'KG_SSH_AGENT_FAILED',
          69,
          /did not answer within 0\.2 s/,
        ),
    );
  });

  it('an agent that hangs up: KG_SSH_AGENT_FAILED', async () => {
    await fakeAgent(
      () => 'close',
      async (path) =>
        rejectsWith(agentSign(key, DATA, { socketPath: path }), 'KG_SSH_AGENT_FAILED', 69, /closed the connection/),
    );
  });

  it('a signature that does not verify with the key is never returned (fail closed)', async () => {
    await fakeAgent(
      (req) => (req[4] === 11 ? identities() : signResponse(Buffer.alloc(64, 1))),
      async (path) =>
        rejectsWith(
          agentSign(key, DATA, { socketPath: path }),
          'KG_SSH_AGENT_FAILED',
          69,
          /does not verify.*nothing was sent/,
        ),
    );
  });

  it('an agent that sends two answers to one request is dropped', async () => {
    await fakeAgent(
      () => Buffer.concat([identities(), identities()]),
      async (path) =>
        rejectsWith(
          agentSign(key, DATA, { socketPath: path }),
          'KG_SSH_AGENT_FAILED',
          69,
          /sent more than it was asked for/,
        ),
    );
  });

  it('a signature of another type is refused by name', async () => {
    const rsa = msg(14, str(Buffer.concat([str('rsa-sha2-512'), str(Buffer.alloc(256))])));
    await fakeAgent(
      (req) => (req[4] === 11 ? identities() : rsa),
      async (path) =>
        rejectsWith(
          agentSign(key, DATA, { socketPath: path }),
          'KG_SSH_AGENT_FAILED',
          69,
          /signed with "rsa-sha2-512"/,
        ),
    );
  });
});

describe('OpenSSH public key files', () => {
  it('reads the .pub ssh-keygen writes, and writes the same line back', () => {
    const text = readFileSync(`${keyFile}.pub`, 'utf8').trim();
    assert.equal(key.comment, 'knockgate-test');
    assert.equal(sshPublicKeyLine(key.raw, key.comment), text);
    assert.deepEqual(Buffer.from(key.blob), Buffer.from(text.split(' ')[1] as string, 'base64'));
    // The fingerprint the client's messages name is the one ssh-keygen -l and ssh-add -l print.
    const listed = spawnSync('ssh-keygen', ['-l', '-f', `${keyFile}.pub`], { encoding: 'utf8' }).stdout;
    assert.equal(listed.split(' ')[1], sshKeyFingerprint(key.blob));
  });

  it('refuses another key type by name, a private key, and text that is no key', () => {
    const ecdsa = join(dir, 'ecdsa');
    sshKeygen(ecdsa, 'ecdsa');
    const refused = (file: string, why: RegExp) =>
      assert.throws(
        () => readSshPublicKeyFile(file),
        (err: unknown) =>
          err instanceof KnockgateError &&
          err.code === 'KG_SSH_KEY_INVALID' &&
          err.exitCode === 65 &&
          why.test(err.message),
      );
    refused(`${ecdsa}.pub`, /is a ecdsa-sha2-nistp256 key; only ssh-ed25519 keys can knock/);
    refused(keyFile, /is a private key; give the public key/);
    writeFileSync(join(dir, 'junk'), 'hello world\n');
    refused(join(dir, 'junk'), /not an OpenSSH public key line/);
    const rsaLine = parseSshPublicKeyLine('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== user@host');
    assert.ok('error' in rsaLine && /ssh-rsa key/.test(rsaLine.error));
    const forged = parseSshPublicKeyLine(
      `ssh-ed25519 ${Buffer.concat([Buffer.from(key.blob), Buffer.from([0])]).toString('base64')}`,
    );
    assert.ok('error' in forged, 'trailing bytes in the blob');
    assert.throws(
      () => readSshPublicKeyFile(join(dir, 'missing.pub')),
      (err: unknown) => err instanceof KnockgateError && err.code === 'KG_SSH_KEY_UNREADABLE' && err.exitCode === 66,
    );
  });
});

/** knockgate.yaml with one SPA door whose clients: list is `entries` (YAML list items, unindented). */
const doorConfig = (serverKeyFile: string, entries: string): string =>
  [
    'interfaces: [eth0]',
    'spa:',
    `  server_key: ${serverKeyFile}`,
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62201}',
    '    open: [22]',
    '    clients:',
    entries.replace(/^/gm, '      '),
    '',
  ].join('\n');

describe('add-client with an ssh-agent key', () => {
  it('the credential names the key and holds no secret; the entry loads as mode ssh-ed25519; a datagram the agent signed opens with it', async () => {
    const serverKeyFile = join(dir, 'server.key');
    createServerKey(serverKeyFile, true);
    const out = join(dir, 'laptop.yaml');
    const r = addClient({
      name: 'laptop',
      serverKeyFile,
      door: 'ssh',
      mode: 'ssh-ed25519',
      sshKey: key,
      port: 62201,
      out,
      force: true,
    });
    assert.match(r.serverEntry, /^ {2}ssh_key: "ssh-ed25519 AAAA\S+ knockgate-test"$/m);
    const cred = readClientCredential(out);
    assert.deepEqual(cred.sshKey?.raw, key.raw);
    assert.equal(cred.psk, undefined);
    assert.equal(cred.privateKey, undefined);
    // knock -v says which agent key signs, as ssh-add -l names it.
    const said = spaAskLines(
      cred,
      { ports: [], durationS: 0, address: null, prefix: 0 },
      { address: '198.18.0.1', port: 62201 },
    );
    assert.ok(
      said.includes(`  signed by:  ssh-agent, key ${sshKeyFingerprint(key.blob)} (knockgate-test)`),
      said.join('\n'),
    );
    assert.doesNotMatch(readFileSync(out, 'utf8'), /psk|private_key|Secret/);
    const config = parseConfigText(
      join(dir, 'knockgate.yaml'),
      doorConfig(serverKeyFile, r.serverEntry.trimEnd()),
      true,
    );
    const client = config.doors[0]?.spa?.clients[0];
    assert.ok(client);
    assert.equal(client.mode, 'ssh-ed25519');
    const agent = await startSshAgent();
    try {
      agent.add([keyFile]);
      const d = await makeSpaDatagram(cred, { ports: [], durationS: 0, address: null, prefix: 0 }, Date.now(), {
        socketPath: agent.socket,
      });
      const keys = serverKeysFromPrivate(readServerKey(serverKeyFile).privateKey, 'ssh');
      const opened = openSpa(d, keys, (id) => (id === client.idHex ? client : undefined));
      assert.ok(opened.ok, JSON.stringify(opened));
    } finally {
      await agent.stop();
    }
  });

  it('a door client entry with a key that is not ssh-ed25519 is a config error naming the key', () => {
    const text = doorConfig(
      join(dir, 'server.key'),
      [
        '- name: a',
        `  id: ${CID.toString('base64url')}`,
        '  ssh_key: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== a@b"',
      ].join('\n'),
    );
    assert.throws(
      () => parseConfigText(join(dir, 'knockgate.yaml'), text, true),
      (err: unknown) =>
        err instanceof ConfigError && /ssh_key/.test(err.message) && /ssh-rsa key; only ssh-ed25519/.test(err.message),
    );
  });
});
