/**
 * A command run on a real pseudo-terminal: util-linux `script -qec CMD /dev/null` gives CMD a new
 * pty as its controlling terminal, forwards our pipe to the pty's input and the pty's output to
 * us. Each time the output shows one more prompt, the next answer is typed (raw bytes: end it with
 * "\r" as the Enter key sends). `script -e` exits with CMD's status.
 */

import { spawn } from 'node:child_process';

export interface PtyRun {
  /** Everything the terminal showed (the pty turns \n into \r\n). */
  readonly output: string;
  readonly status: number | null;
}

/** A word for `sh -c`: single-quoted. */
export const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

const PROMPTS = /(passphrase for [^\r\n]*|the same again): /g;

export function runInPty(
  shellCommand: string,
  answers: readonly string[],
  o: { wrap?: readonly string[]; timeoutMs?: number } = {},
): Promise<PtyRun> {
  const argv = [...(o.wrap ?? []), 'script', '-qec', shellCommand, '/dev/null'];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  let answered = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    const prompts = output.match(PROMPTS)?.length ?? 0;
    while (answered < prompts && answered < answers.length) child.stdin.write(answers[answered++] as string);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out under script: ${JSON.stringify(output)}`));
    }, o.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ output, status });
    });
  });
}
