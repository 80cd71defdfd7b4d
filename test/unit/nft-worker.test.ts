/**
 * Covers src/gates/nft-worker.ts with a stand-in worker (test/support/fake-nft-worker.ts): answers
 * are paired with the request and the child they belong to, also when a late answer from a child
 * killed on a timeout arrives while its successor serves the next request (issue "Every promise
 * holds at the edges", item 5).
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NftWorker } from '../../src/gates/nft-worker.js';

const FAKE = fileURLToPath(new URL('../support/fake-nft-worker.js', import.meta.url));

/** An executable that runs the stand-in with this Node (the worker's argv is fixed, no args). */
function fakeWorkerExecutable(dir: string): string {
  const path = join(dir, 'fake-nft');
  writeFileSync(path, `#!/bin/sh\nexec '${process.execPath}' '${FAKE}'\n`);
  chmodSync(path, 0o700);
  return path;
}

describe('NftWorker', () => {
  it('answers each request with its own answer, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-nft-worker-'));
    const worker = new NftWorker(fakeWorkerExecutable(dir), 5_000);
    try {
      assert.deepEqual(await Promise.all(['a', 'bb', 'ccc'].map((b) => worker.run(b))), ['a', 'bb', 'ccc']);
    } finally {
      worker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a late answer from a child killed on a timeout is never taken for the next request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-nft-worker-'));
    // 1.5 s: a new child starts and answers well within it even on a loaded machine (a CI run saw
    // a 150 ms timeout miss the third, plain request). The first request times out at 1.5 s; the
    // second is then in flight on a new child until 3 s, and the first child's late answer comes
    // at 2 s plus that child's start-up, inside that span.
    const worker = new NftWorker(fakeWorkerExecutable(dir), 1500);
    try {
      const first = worker.run('late:first');
      const second = worker.run('slow:second'); // a new child; answers after 4 s, the late one comes at 2 s
      await assert.rejects(first, /did not answer within 1500 ms/);
      // The late answer arrives while the second request is in flight on a new child; that child
      // answers only after 4 s, so the second request times out: it must not resolve with the
      // first request's answer.
      const outcome = await second.then(
        (v) => `resolved: ${v}`,
        (e: Error) => `rejected: ${e.message}`,
      );
      assert.match(outcome, /^rejected: .*did not answer/, `the second request got ${outcome}`);
      assert.equal(await worker.run('third'), 'third');
    } finally {
      worker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
