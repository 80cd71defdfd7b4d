/**
 * `knockgate completion bash`, loaded into a real bash and asked as the shell asks when TAB is
 * pressed (COMP_WORDS, COMP_CWORD, then the completion function): command names, a command's own
 * options, and file names after an option that takes a file.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KNOCKGATE } from '../support/daemon-process.js';

describe('knockgate completion bash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kg-completion-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const made = spawnSync(process.execPath, [KNOCKGATE, 'completion', 'bash'], { encoding: 'utf8' });
  const script = join(dir, 'knockgate.bash');
  writeFileSync(script, made.stdout);
  writeFileSync(join(dir, 'laptop.knockgate.yaml'), '');

  /** What bash offers for the words typed so far (the last one is being completed). */
  const complete = (...words: string[]): string[] => {
    const argv = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync(
      'bash',
      [
        '-c',
        `source '${script}'; COMP_WORDS=(${argv}); COMP_CWORD=${words.length - 1}; _knockgate; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8', cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };

  it('is written (exit 0) and bash loads it without complaint', () => {
    assert.equal(made.status, 0, made.stderr);
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('completes command names, each command its own options, and files after -c', () => {
    assert.deepEqual(complete('knockgate', 're'), ['reload', 'revoke']);
    assert.ok(complete('knockgate', '').includes('add-client'));
    assert.deepEqual(complete('knockgate', 'revoke', '--cl'), ['--client']);
    assert.deepEqual(complete('knockgate', 'knock', '--cl'), [], 'knock has no --client');
    assert.ok(complete('knockgate', 'knock', 'gw', '--').includes('--duration'));
    assert.deepEqual(complete('knockgate', 'knock', 'gw', '-c', 'lap'), ['laptop.knockgate.yaml']);
  });

  it('any other shell is a usage error naming it (exit 64)', () => {
    const r = spawnSync(process.execPath, [KNOCKGATE, 'completion', 'fish'], { encoding: 'utf8' });
    assert.equal(r.status, 64);
    assert.match(r.stderr, /completion for "fish" is not written/);
  });
});
