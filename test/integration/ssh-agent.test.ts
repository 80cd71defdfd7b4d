/**
 * SPA mode ssh-ed25519 end to end, with the real tools: a key made by ssh-keygen and added with
 * ssh-add to a real ssh-agent (started here, killed by PID in after()); `knockgate add-client
 * --ssh-key` makes the credential and the entry; knockgated hides the port; `knockgate knock`
 * asks the agent to sign and opens it for its source only. The same key's signatures over other
 * data (the agent signing the raw transcript; `ssh-keygen -Y sign -n file` over it) are refused
 * with spa-auth, while `ssh-keygen -Y sign -n knockgate-spa@v1` over it opens: only the
 * namespace differs. `connect` signs with the agent as `knock` does. The client's error paths
 * print one line and their exit status.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILD_ROOT, KNOCKGATE, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';
import { sshKeygen, startSshAgent, type AgentProcess } from '../support/ssh-agent-process.js';

const SPA_TOOL = join(BUILD_ROOT, 'test', 'support', 'spa-tool.js');
const keyDir = mkdtempSync(join(tmpdir(), 'kg-agent-keys-'));
const KEY = join(keyDir, 'id_ed25519');
sshKeygen(KEY, 'ed25519', 'dave@laptop');

describe('ssh-agent identities (SPA mode ssh-ed25519)', () => {
  const agents: AgentProcess[] = [];
  let agent: AgentProcess;
  let emptyAgent: AgentProcess;
  let denyingAgent: AgentProcess;
  before(async () => {
    agent = await startSshAgent();
    agents.push(agent);
    agent.add([KEY]);
    emptyAgent = await startSshAgent();
    agents.push(emptyAgent);
    denyingAgent = await startSshAgent({ askpass: '/bin/false' });
    agents.push(denyingAgent);
    denyingAgent.add(['-c', KEY]);
  });
  after(async () => {
    for (const a of agents) await a.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: { dave: ['--door', 'ssh', '--ssh-key', `${KEY}.pub`, '--port', '62201'] },
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 30s',
      '    clients:',
      ...clientEntry('dave'),
    ],
  });
  const { tb, daemon, cred } = s;

  /** `knockgate ARGS` in `ns` with SSH_AUTH_SOCK set to `sock` (unset when null). */
  const knockgate = (ns: string, sock: string | null, args: string[]) => {
    const env = ['env', ...(sock === null ? ['-u', 'SSH_AUTH_SOCK'] : [`SSH_AUTH_SOCK=${sock}`])];
    return spawnSync('ip', ['netns', 'exec', ns, ...env, process.execPath, KNOCKGATE, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  };
  const forge = (how: string): string =>
    tb
      .run(tb.other.ns, [
        'env',
        `SSH_AUTH_SOCK=${agent.socket}`,
        process.execPath,
        SPA_TOOL,
        'ssh-forge',
        cred('dave'),
        how,
        KEY,
      ])
      .trim();
  const sendFromOther = async (hex: string, what: string) => {
    const before = daemon.lines.length;
    tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'send', tb.server.otherSide.v4, '62201', hex]);
    return daemon.waitFor((l) => daemon.lines.indexOf(l) >= before && l.event === 'spa', 5000, what);
  };

  it('add-client --ssh-key wrote a credential naming the agent key, with no secret in it', () => {
    const text = readFileSync(cred('dave'), 'utf8');
    const pub = readFileSync(`${KEY}.pub`, 'utf8').trim();
    assert.ok(text.includes(`ssh_key: ${JSON.stringify(pub)}`), text);
    assert.doesNotMatch(text, /^(psk|private_key):/m);
    assert.ok(s.clientEntry('dave').some((l) => l.trim() === `ssh_key: ${JSON.stringify(pub)}`));
  });

  it('the client error paths print one line and their exit status, and send nothing', () => {
    const host = tb.server.otherSide.v4;
    const cases: [string | null, number, RegExp][] = [
      [null, 69, /^knockgate: SSH_AUTH_SOCK is not set/],
      [join(keyDir, 'no-agent.sock'), 69, /^knockgate: cannot reach ssh-agent at .*no-agent\.sock/],
      [
        emptyAgent.socket,
        66,
        /^knockgate: the credential's key is not in ssh-agent \(SHA256:\S+ \(dave@laptop\)\): ssh-add it/,
      ],
      [denyingAgent.socket, 77, /^knockgate: ssh-agent refused to sign/],
    ];
    for (const [sock, status, message] of cases) {
      const r = knockgate(tb.other.ns, sock, ['knock', host, '-c', cred('dave')]);
      assert.equal(r.status, status, `${sock}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(daemon.lines.filter((l) => l.event === 'spa').length, 0, 'no datagram reached the daemon');
    assert.equal(probe(tb, tb.other.ns, host, 22).outcome, 'timeout');
  });

  it('knockgate knock, signed by the real ssh-agent, opens the port for its source only', async () => {
    const host = tb.server.clientSide.v4;
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'timeout');
    const r = knockgate(tb.client.ns, agent.socket, ['knock', host, '-c', cred('dave'), '-v']);
    assert.equal(r.status, 0, r.stderr);
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.client === 'dave', 5000, 'the grant');
    assert.equal(grant.source, tb.client.v4);
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });

  it('knockgate connect (ssh ProxyCommand) knocks with the agent too, over IPv6, and relays the service', async () => {
    const host = tb.server.clientSide.v6;
    const r = knockgate(tb.client.ns, agent.socket, ['connect', host, '22', '-c', cred('dave')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^SSH-2\.0-knockgate-standin/);
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v6, 5000, 'the IPv6 grant');
    assert.equal(grant.client, 'dave');
  });

  it("the same key's signature over other data is refused with spa-auth; ssh-keygen's under knockgate-spa@v1 opens", async () => {
    const raw = await sendFromOther(forge('agent-raw'), 'the verdict on the raw-transcript signature');
    assert.equal(raw.verdict, 'rejected');
    assert.equal(raw.reason, 'spa-auth');
    const file = await sendFromOther(forge('keygen:file'), 'the verdict on the -n file signature');
    assert.equal(file.reason, 'spa-auth');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');

    const good = await sendFromOther(forge('keygen:knockgate-spa@v1'), 'the verdict on ssh-keygen -n knockgate-spa@v1');
    assert.equal(good.verdict, 'accepted');
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the grant to other');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
  });
});
