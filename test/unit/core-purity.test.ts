/**
 * The core (src/core) turns bytes and time into decisions and does no I/O: it imports nothing but
 * other core files and node:crypto (pure computation), and it reads no clock and no randomness
 * (both are arguments, so that every decision can be replayed in a test). This test reads the
 * TypeScript sources and names each file and line that breaks the rule.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon-process.js';

const CORE = join(REPO_ROOT, 'src', 'core');
/** Modules outside the core that the core may import: computation only. */
const ALLOWED_MODULES = new Set(['node:crypto']);
/** node:crypto functions that draw randomness or make keys: the caller's, never the core's. */
const RANDOM =
  /\b(randomBytes|randomFill(Sync)?|randomInt|randomUUID|getRandomValues|generateKeyPair(Sync)?|generateKey(Sync)?)\b/;
/** Clocks, timers, the process and ambient randomness. */
const AMBIENT =
  /\b(Date\.now|new Date\s*\(|performance\.now|process\.|hrtime|setTimeout|setInterval|setImmediate|queueMicrotask|Math\.random|globalThis|require\s*\(|import\s*\()/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each problem of `text` (the source of `file`) as `src/core/FILE:LINE: what`, comments ignored. */
function problemsOfText(file: string, text: string): string[] {
  const out: string[] = [];
  const name = relative(REPO_ROOT, file);
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    let line = raw;
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) return;
      line = line.slice(end + 2);
      inBlock = false;
    }
    line = line.replace(/\/\*.*?\*\//g, '');
    const open = line.indexOf('/*');
    if (open >= 0) {
      line = line.slice(0, open);
      inBlock = true;
    }
    line = line.replace(/\/\/.*$/, '');
    const at = `${name}:${i + 1}`;
    for (const m of line.matchAll(/\bfrom\s+'([^']+)'/g)) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) {
        const target = resolve(file, '..', spec);
        if (!(target + sep).startsWith(CORE + sep)) out.push(`${at}: imports ${spec}, outside the core`);
      } else if (!ALLOWED_MODULES.has(spec)) {
        out.push(`${at}: imports ${spec}`);
      }
    }
    const random = RANDOM.exec(line);
    if (random) out.push(`${at}: draws randomness (${random[0]})`);
    const ambient = AMBIENT.exec(line);
    if (ambient) out.push(`${at}: reads ${ambient[0]}`);
  });
  return out;
}

const problems = (file: string): string[] => problemsOfText(file, readFileSync(file, 'utf8'));

describe('the core does no I/O', () => {
  it('src/core imports only core files and node:crypto, and reads no clock, timer, process or randomness', () => {
    const files = sources(CORE);
    assert.ok(files.length > 20, `found only ${files.length} core files under ${CORE}`);
    assert.deepEqual(files.flatMap(problems), []);
  });

  it('the check finds what it is for (a file that breaks each rule)', () => {
    const probe = join(CORE, '__purity_probe__.ts'); // never written: only its name is used
    const lines = [
      "import { readFileSync } from 'node:fs';",
      "import { Daemon } from '../daemon/daemon.js';",
      "import { randomBytes } from 'node:crypto';",
      'const t = Date.now(); // a clock',
      '/* Date.now() in a comment is fine */',
      'const r = Math.random();',
    ];
    const found = problemsOfText(probe, lines.join('\n'));
    assert.deepEqual(found, [
      'src/core/__purity_probe__.ts:1: imports node:fs',
      'src/core/__purity_probe__.ts:2: imports ../daemon/daemon.js, outside the core',
      'src/core/__purity_probe__.ts:3: draws randomness (randomBytes)',
      'src/core/__purity_probe__.ts:4: reads Date.now',
      'src/core/__purity_probe__.ts:6: reads Math.random',
    ]);
  });
});
