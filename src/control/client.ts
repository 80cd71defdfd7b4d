/**
 * `knockgate`'s end of the control socket (protocol.ts): connects, sends one request, reads the
 * one answer line, and returns its result or throws the daemon's error as a KnockgateError with the
 * same code (so the exit status is the one core/errors.ts gives that code).
 *
 * Failures before an answer are named for what the operator must do: no socket (the daemon is not
 * running for this table, or runs in another network namespace), permission denied (not root),
 * no answer within CONTROL_ANSWER_TIMEOUT_MS.
 */

import { connect } from 'node:net';
import { ERROR_CODES, type ErrorCode, KnockgateError } from '../core/errors.js';
import { CONTROL_ANSWER_TIMEOUT_MS } from '../core/limits.js';
import { CONTROL_PROTOCOL_VERSION, type ControlOp, type ControlResults, parseControlAnswer } from './protocol.js';

export async function askDaemon<O extends ControlOp>(
  path: string,
  request: { readonly op: O } & Readonly<Record<string, unknown>>,
  timeoutMs = CONTROL_ANSWER_TIMEOUT_MS,
): Promise<ControlResults[O]> {
  const line = await exchange(path, `${JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, ...request })}\n`, timeoutMs);
  const answer = parseControlAnswer(line);
  if (!('ok' in answer)) throw new KnockgateError('KG_CONTROL_FAILED', answer.error);
  if (answer.ok) return answer.result as ControlResults[O];
  const code = (answer.error.code in ERROR_CODES ? answer.error.code : 'KG_CONTROL_FAILED') as ErrorCode;
  throw new KnockgateError(code, answer.error.message);
}

function exchange(path: string, request: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new KnockgateError('KG_CONTROL_UNAVAILABLE', `knockgated did not answer on ${path} within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(path, err));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const nl = text.indexOf('\n');
      if (nl < 0) reject(new KnockgateError('KG_CONTROL_FAILED', `knockgated closed ${path} without an answer`));
      else resolve(text.slice(0, nl));
    });
  });
}

function connectError(path: string, err: NodeJS.ErrnoException): KnockgateError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new KnockgateError(
        'KG_CONTROL_UNAVAILABLE',
        `knockgated is not running for this table in this network namespace (no control socket answers at ${path}); start it, or name the table with --table or the config with --config`,
      );
    case 'EACCES':
    case 'EPERM':
      return new KnockgateError(
        'KG_CONTROL_DENIED',
        `${path}: permission denied; the control socket is root's only (use sudo)`,
      );
    default:
      return new KnockgateError('KG_CONTROL_UNAVAILABLE', `cannot reach knockgated at ${path}: ${err.message}`);
  }
}
