/**
 * The client's side of ssh-agent (draft-miller-ssh-agent) over the Unix socket SSH_AUTH_SOCK
 * names: OpenSSH's agent, a forwarded one, gpg-agent's ssh support, or PKCS#11 keys added with
 * `ssh-add -s` all answer the same two requests. agentSign asks for the identities, checks the
 * key is among them, asks for a signature, and checks it verifies with that key before returning
 * it: an agent that signs with another key, or garbles the answer, makes nothing that is sent.
 *
 * Contract: every failure is a KnockgateError with its own code (no SSH_AUTH_SOCK, unreachable,
 * key not in the agent, refused, no valid answer) and one plain line; reads are bounded by
 * MAX_SSH_AGENT_ANSWER_BYTES and the whole exchange by a timeout; the socket is always closed.
 * The message bytes are core/ssh/ssh-agent-messages.ts's.
 */

import { connect, type Socket } from 'node:net';
import { KnockgateError } from '../core/errors.js';
import { MAX_SSH_AGENT_ANSWER_BYTES, SSH_AGENT_TIMEOUT_MS } from '../core/limits.js';
import { ed25519PublicFromRaw } from '../core/spa/keys.js';
import { ed25519Verifies } from '../core/spa/native-client-auth.js';
import {
  agentFrameOf,
  parseIdentitiesAnswer,
  parseSignResponse,
  requestIdentitiesMessage,
  signRequestMessage,
  type AgentMessage,
} from '../core/ssh/ssh-agent-messages.js';
import { sshKeyFingerprint, type SshEd25519PublicKey } from '../core/ssh/ssh-public-key.js';

export interface AgentOptions {
  /** Default: $SSH_AUTH_SOCK. */
  readonly socketPath?: string;
  /** Default SSH_AGENT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** The agent's socket path, or KG_SSH_AGENT_UNSET. */
export function agentSocketPath(o: AgentOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  const path = o.socketPath ?? env.SSH_AUTH_SOCK;
  if (path === undefined || path === '')
    throw new KnockgateError(
      'KG_SSH_AGENT_UNSET',
      'SSH_AUTH_SOCK is not set: this credential signs with a key in ssh-agent; start one (eval "$(ssh-agent)") and ssh-add the key, or log in with agent forwarding',
    );
  return path;
}

/** One connection to the agent, answering requests in order, each answer bounded in size. */
class AgentConnection {
  #received: Buffer = Buffer.alloc(0);
  #waiting: ((m: AgentMessage) => void) | null = null;
  #failed: KnockgateError | null = null;
  #onFail: ((e: KnockgateError) => void) | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly path: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.#take(chunk));
    socket.on('error', (err) => this.#fail(unreachable(path, err)));
    socket.on('close', () =>
      this.#fail(
        new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${path} closed the connection before it answered`),
      ),
    );
  }

  static open(path: string): Promise<AgentConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path });
      socket.once('error', (err) => reject(unreachable(path, err)));
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new AgentConnection(socket, path));
      });
    });
  }

  request(message: Uint8Array): Promise<AgentMessage> {
    return new Promise((resolve, reject) => {
      if (this.#failed) return reject(this.#failed);
      this.#waiting = resolve;
      this.#onFail = reject;
      this.socket.write(message);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #take(chunk: Buffer): void {
    this.#received = Buffer.concat([this.#received, chunk]);
    const frame = agentFrameOf(this.#received, MAX_SSH_AGENT_ANSWER_BYTES);
    if (frame.kind === 'invalid') {
      this.#fail(new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${this.path} ${frame.problem}`));
      return;
    }
    if (frame.kind === 'more') return;
    const waiting = this.#waiting;
    if (waiting === null) {
      this.#fail(
        new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${this.path} sent a message nobody asked for`),
      );
      return;
    }
    this.#waiting = null;
    this.#onFail = null;
    const message = { type: frame.type, contents: Uint8Array.from(frame.contents) };
    this.#received = this.#received.subarray(frame.bytes);
    waiting(message);
    // The protocol is one answer per request: anything after it is the agent's fault.
    if (this.#received.length > 0)
      this.#fail(
        new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${this.path} sent more than it was asked for`),
      );
  }

  #fail(err: KnockgateError): void {
    if (this.#failed) return;
    this.#failed = err;
    this.socket.destroy();
    const onFail = this.#onFail;
    this.#waiting = null;
    this.#onFail = null;
    onFail?.(err);
  }
}

function unreachable(path: string, err: Error): KnockgateError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such socket (the agent has exited, or SSH_AUTH_SOCK is stale)'
      : code === 'ECONNREFUSED'
        ? 'nothing listens there (the agent has exited)'
        : code === 'EACCES'
          ? 'permission denied'
          : (code ?? err.message);
  return new KnockgateError('KG_SSH_AGENT_UNREACHABLE', `cannot reach ssh-agent at ${path} (SSH_AUTH_SOCK): ${why}`);
}

/** Rejects with KG_SSH_AGENT_FAILED after `ms`, unless `work` settles first. */
async function within<T>(ms: number, path: string, work: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${path} did not answer within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The agent's Ed25519 signature over `data` with `key`, verified against `key` before it is
 * returned. Throws the errors the file's contract names.
 */
export async function agentSign(key: SshEd25519PublicKey, data: Uint8Array, o: AgentOptions = {}): Promise<Uint8Array> {
  const path = agentSocketPath(o);
  const timeoutMs = o.timeoutMs ?? SSH_AGENT_TIMEOUT_MS;
  let conn: AgentConnection | null = null;
  const work = (async () => {
    conn = await AgentConnection.open(path);
    const listed = parseIdentitiesAnswer(await conn.request(requestIdentitiesMessage()));
    if ('problem' in listed) throw new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${path} ${listed.problem}`);
    const blob = Buffer.from(key.blob);
    if ('failure' in listed || !listed.identities.some((id) => blob.equals(id.blob)))
      throw new KnockgateError(
        'KG_SSH_AGENT_NO_KEY',
        `the credential's key is not in ssh-agent (${describeSshKey(key)}): ssh-add it (ssh-add ~/.ssh/id_ed25519, or the file holding it) and knock again`,
      );
    const signed = parseSignResponse(await conn.request(signRequestMessage(key.blob, data)));
    if ('problem' in signed) throw new KnockgateError('KG_SSH_AGENT_FAILED', `ssh-agent at ${path} ${signed.problem}`);
    if ('failure' in signed)
      throw new KnockgateError(
        'KG_SSH_AGENT_REFUSED',
        `ssh-agent refused to sign with ${describeSshKey(key)} (a confirmation denied, a locked agent, or a token that needs its PIN)`,
      );
    if (!ed25519Verifies(ed25519PublicFromRaw(key.raw), data, signed.signature))
      throw new KnockgateError(
        'KG_SSH_AGENT_FAILED',
        `ssh-agent at ${path} returned a signature that does not verify with ${describeSshKey(key)}; nothing was sent`,
      );
    return signed.signature;
  })();
  try {
    return await within(timeoutMs, path, work, () => (conn as AgentConnection | null)?.close());
  } finally {
    (conn as AgentConnection | null)?.close();
  }
}

/** The key as `ssh-add -l` lists it: its fingerprint, and its comment when it has one. */
export function describeSshKey(key: SshEd25519PublicKey): string {
  return `${sshKeyFingerprint(key.blob)}${key.comment ? ` (${key.comment})` : ''}`;
}
