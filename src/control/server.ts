/**
 * The daemon's end of the control socket (protocol.ts): a Unix stream socket, mode 0600 in the
 * 0700 run directory, so only root reaches it. It reads one request line per connection, hands the
 * checked request to `handle`, writes the answer line and closes.
 *
 * Contract of openControlSocket(path, handle, log):
 *   - called while the table lock is held (stores/table-lock.ts): a socket already at `path` is a
 *     dead daemon's and is replaced; anything else there (a file, a symlink) is refused with
 *     KG_STATE_WRITE_FAILED and left alone;
 *   - the socket is created under umask 0177 and chmod'ed 0600 before it is announced;
 *   - a request that is not one line of at most MAX_CONTROL_REQUEST_BYTES within
 *     CONTROL_REQUEST_TIMEOUT_MS, or that fails the schema, is answered with a named error and
 *     never reaches `handle`; more than MAX_CONTROL_CONNECTIONS at once are answered "busy";
 *   - `handle` throwing a KnockgateError answers its code and message; anything else answers
 *     KG_CONTROL_FAILED (and is logged: it is our fault);
 *   - close() stops listening, waits for the requests in progress, and unlinks the socket if it is
 *     still the one this process made.
 */

import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { KnockgateError, type ErrorCode } from '../core/errors.js';
import { CONTROL_REQUEST_TIMEOUT_MS, MAX_CONTROL_CONNECTIONS, MAX_CONTROL_REQUEST_BYTES } from '../core/limits.js';
import type { Logger } from '../ports/logger.js';
import { CONTROL_PROTOCOL_VERSION, type ControlRequest, parseControlRequest } from './protocol.js';

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

export async function openControlSocket(path: string, handle: ControlHandler, log: Logger): Promise<ControlSocket> {
  removeStaleSocket(path);
  const inFlight = new Set<Promise<void>>();
  let open = 0;
  // allowHalfOpen: a client that sends its request and then half-closes still gets its answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    if (open >= MAX_CONTROL_CONNECTIONS) {
      answer(socket, failure('KG_CONTROL_UNAVAILABLE', `the daemon is serving ${open} control requests; try again`));
      return;
    }
    open++;
    socket.once('close', () => open--);
    const served = serve(socket, handle, log).finally(() => inFlight.delete(served));
    inFlight.add(served);
  });
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `cannot create the control socket ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  const inode = lstatSync(path).ino;
  server.on('error', (err) => log.error({ event: 'control-failed', error: err.message }, 'control socket error'));
  return {
    path,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      try {
        if (lstatSync(path).ino === inode) unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

function removeStaleSocket(path: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket())
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `${path} exists and is not a socket; it was not made by knockgated and is left alone: remove it`,
    );
  unlinkSync(path);
}

interface Answer {
  readonly v: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

function failure(code: ErrorCode, message: string): Answer {
  return { v: CONTROL_PROTOCOL_VERSION, ok: false, error: { code, message } };
}

function answer(socket: Socket, a: Answer): void {
  socket.end(`${JSON.stringify(a)}\n`);
}

async function serve(socket: Socket, handle: ControlHandler, log: Logger): Promise<void> {
  const line = await readLine(socket);
  if (typeof line !== 'string') {
    answer(socket, failure('KG_USAGE', line.error));
    return;
  }
  const request = parseControlRequest(line);
  if ('error' in request) {
    answer(socket, failure('KG_USAGE', request.error));
    return;
  }
  try {
    const result = await handle(request);
    answer(socket, { v: CONTROL_PROTOCOL_VERSION, ok: true, result });
  } catch (err) {
    if (err instanceof KnockgateError) {
      answer(socket, failure(err.code, err.message));
      return;
    }
    log.error({ event: 'control-failed', op: request.op, error: (err as Error).stack }, 'control request failed');
    answer(socket, failure('KG_CONTROL_FAILED', `internal error: ${(err as Error).message}`));
  }
}

/** The first line the client sends, without its newline; an error if it is too long, too slow or cut short. */
function readLine(socket: Socket): Promise<string | { error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: string | { error: string }): void => {
      socket.setTimeout(0);
      socket.removeAllListeners('data');
      socket.removeAllListeners('end');
      socket.removeAllListeners('timeout');
      resolve(value);
    };
    socket.setTimeout(CONTROL_REQUEST_TIMEOUT_MS, () =>
      done({ error: `no complete request within ${CONTROL_REQUEST_TIMEOUT_MS} ms` }),
    );
    socket.on('error', () => done({ error: 'the connection failed' }));
    socket.on('end', () => done({ error: 'the request ended without a newline' }));
    socket.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      const take = nl < 0 ? chunk : chunk.subarray(0, nl);
      size += take.length;
      if (size > MAX_CONTROL_REQUEST_BYTES) {
        done({ error: `the request is over ${MAX_CONTROL_REQUEST_BYTES} bytes` });
        return;
      }
      chunks.push(take);
      if (nl >= 0) done(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
