/**
 * A stand-in for knockgate-nft that speaks its framing (request `LEN\nBODY`, answer
 * `STATUS LEN\nBODY`) and answers each body with itself, for testing the client's pairing of
 * answers with requests. A body starting with `late:` is answered 2 s later by a grandchild
 * that holds the worker's stdout, so the answer arrives even after the worker was SIGKILLed (as
 * an answer written just before the kill would); one starting with `slow:` 4 s later. The delays are
 * long against a child's start-up (about 50 ms idle, several hundred on a loaded 2-core machine),
 * so that the test's order of events holds under load.
 */

import { spawn } from 'node:child_process';

let input = Buffer.alloc(0);
process.stdin.on('data', (chunk: Buffer) => {
  input = Buffer.concat([input, chunk]);
  for (;;) {
    const nl = input.indexOf(10);
    if (nl < 0) return;
    const length = Number(input.subarray(0, nl).toString('latin1'));
    if (input.length < nl + 1 + length) return;
    const body = input.subarray(nl + 1, nl + 1 + length).toString('utf8');
    input = input.subarray(nl + 1 + length);
    const answer = `0 ${Buffer.byteLength(body)}\n${body}`;
    if (body.startsWith('late:')) {
      spawn('/bin/sh', ['-c', `sleep 2; printf '%s' "$0"`, answer], {
        stdio: ['ignore', 'inherit', 'ignore'],
        detached: true,
      }).unref();
    } else if (body.startsWith('slow:')) {
      setTimeout(() => process.stdout.write(answer), 4000);
    } else {
      process.stdout.write(answer);
    }
  }
});
