/**
 * A real OpenSSH ssh-agent for a test: `ssh-agent -D -a SOCKET` in the foreground, started by
 * the test and killed by its PID in stop(), with its socket in a fresh 0700 directory. Keys are
 * added with the real `ssh-add`. `askpass` (SSH_ASKPASS for the agent) answers the confirmation
 * that `ssh-add -c` keys ask for: /bin/false denies every use.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AgentProcess {
  readonly socket: string;
  readonly pid: number;
  /** `ssh-add ARGS` against this agent; throws with ssh-add's stderr when it fails. */
  add(args: readonly string[]): void;
  stop(): Promise<void>;
}

export async function startSshAgent(o: { askpass?: string } = {}): Promise<AgentProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kg-agent-'));
  const socket = join(dir, 'agent.sock');
  const env = { ...process.env, ...(o.askpass ? { SSH_ASKPASS: o.askpass, SSH_ASKPASS_REQUIRE: 'force' } : {}) };
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'ignore', 'pipe'], env });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(socket) || child.pid === undefined) {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    throw new Error('ssh-agent did not create its socket');
  }
  const pid = child.pid;
  return {
    socket,
    pid,
    add(args) {
      const r = spawnSync('ssh-add', [...args], { encoding: 'utf8', env: { ...env, SSH_AUTH_SOCK: socket } });
      if (r.status !== 0) throw new Error(`ssh-add ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh ssh-ed25519 key pair made by the real ssh-keygen: FILE and FILE.pub. */
export function sshKeygen(file: string, type = 'ed25519', comment = 'knockgate-test'): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen exited ${r.status}: ${r.stderr.trim()}`);
}

/** `ssh-keygen -Y sign -n NAMESPACE -f KEY` over `message`: the armored signature it prints. */
export function sshKeygenSign(key: string, namespace: string, message: Uint8Array): string {
  const r = spawnSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', namespace, '-f', key], {
    input: Buffer.from(message),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ssh-keygen -Y sign exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}
