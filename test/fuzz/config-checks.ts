/**
 * What the configuration targets (config-yaml, knockd-conf, access-conf) require of every result:
 * a located ConfigError, or a compiled configuration within the bounds of src/core/limits.ts.
 *
 * Contract: each function throws an AssertionError describing the first violated rule, and
 * rethrows anything that is not a ConfigError unchanged, so the fuzzer reports the real exception.
 */

import assert from 'node:assert/strict';
import { isAbsolute } from 'node:path';
import type { Config } from '../../src/config/config.js';
import { DOOR_NAME } from '../../src/config/schema.js';
import { endpointKey } from '../../src/core/endpoint.js';
import { ConfigError } from '../../src/core/errors.js';
import {
  MAX_COMMAND_TIMEOUT_MS,
  MAX_DOORS,
  MAX_GRANT_DURATION_S,
  MAX_OPEN_PORTS_PER_DOOR,
  MAX_SEQUENCE_STEPS,
  MAX_SEQUENCE_TIMEOUT_MS,
  MAX_SPA_FRESHNESS_MS,
  MAX_REPLAY_ENTRIES,
  MIN_GRANT_DURATION_S,
  MIN_SEQUENCE_TIMEOUT_MS,
} from '../../src/core/limits.js';
import { fwknopKeysProblem } from '../../src/core/spa/fwknop-wire.js';

/** Lines of a text as an editor numbers them ('\n' ends a line; a last line need not end). */
export function lineCount(text: string): number {
  return text.split('\n').length;
}

export interface WhereAllowed {
  /** The file the parser was given. */
  readonly file: string;
  readonly text: string;
  /** Other files the parser may name (included files): path → their text, or null if unknown. */
  readonly others?: (file: string) => string | null | undefined;
  /** A ConfigError without a line is allowed only for these whole-file faults. */
  readonly wholeFile: (e: ConfigError) => boolean;
}

/**
 * `e` is a ConfigError (else it is rethrown) with the stable code and exit status, naming the file
 * and a line that exists in it (or, only for a whole-file fault, no line), rendered FILE:LINE: ...
 * Returns a short label of the error for outcome counting.
 */
export function assertLocatedConfigError(e: unknown, where: WhereAllowed): string {
  if (!(e instanceof ConfigError)) throw e;
  assert.equal(e.code, 'KG_CONFIG_INVALID');
  assert.equal(e.exitCode, 78);
  assert.ok(e.detail.length > 0, 'empty detail');
  let text: string | null | undefined;
  if (e.file === where.file) text = where.text;
  else {
    text = where.others?.(e.file);
    assert.notEqual(text, undefined, `the error names ${e.file}, a file this input does not read`);
    assert.ok(isAbsolute(e.file));
  }
  if (e.line === undefined) {
    assert.ok(where.wholeFile(e), `no line for ${JSON.stringify(e.message)}`);
  } else {
    assert.ok(Number.isInteger(e.line) && e.line >= 1, `line ${e.line}`);
    if (text !== null && text !== undefined)
      assert.ok(e.line <= lineCount(text), `line ${e.line} of a ${lineCount(text)}-line file: ${e.message}`);
  }
  const prefix = e.line === undefined ? `${e.file}: ` : `${e.file}:${e.line}: `;
  assert.ok(
    e.message.startsWith(prefix),
    `message ${JSON.stringify(e.message)} does not start with ${JSON.stringify(prefix)}`,
  );
  return `error:${messageTemplate(e.detail)}`;
}

/**
 * The message with its variable parts (quoted text, paths, numbers) blanked: one label per kind of
 * error, roughly one per code path, which is what the fuzzer's outcome feedback wants.
 */
export function messageTemplate(detail: string): string {
  return detail
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\/.*?(?=: E[A-Z]+| could not| is not| is larger|$)/g, '/…') // paths, which may hold blanks
    .replace(/'[^']*'/g, "'…'")
    .replace(/\{[^}]*\}/g, '{…}')
    .replace(/\\\S/g, '\\…')
    .replace(/\d+/g, 'N')
    .slice(0, 48);
}

/** A compiled configuration: frozen, within every bound, internally consistent. */
export function assertConfig(c: Config, file: string): void {
  assert.equal(c.file, file);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.doors) && Object.isFrozen(c.interfaces), 'config not frozen');
  assert.ok(c.interfaces.length >= 1);
  if (c.interfaces.includes('any')) assert.equal(c.interfaces.length, 1);
  assert.ok(c.firewall === 'nftables' || c.firewall === 'none');
  assert.ok(c.doors.length >= 1 && c.doors.length <= MAX_DOORS);
  if (c.spa) {
    assert.ok(c.spa.freshnessMs >= 1_000 && c.spa.freshnessMs <= MAX_SPA_FRESHNESS_MS);
    assert.ok(c.spa.maxReplayEntries >= 1 && c.spa.maxReplayEntries <= MAX_REPLAY_ENTRIES);
    assert.ok(isAbsolute(c.spa.replayJournal));
  }
  const names = new Set<string>();
  const clientIds = new Set<string>();
  for (const d of c.doors) {
    assert.ok(Object.isFrozen(d) && Object.isFrozen(d.open), `door ${d.name} not frozen`);
    assert.ok(DOOR_NAME.test(d.name) && !names.has(d.name), `door name ${JSON.stringify(d.name)}`);
    names.add(d.name);
    assert.ok(
      Number.isInteger(d.durationS) && d.durationS >= MIN_GRANT_DURATION_S && d.durationS <= MAX_GRANT_DURATION_S,
      `duration ${d.durationS}`,
    );
    assert.ok(d.commandTimeoutMs >= 100 && d.commandTimeoutMs <= MAX_COMMAND_TIMEOUT_MS);
    assert.ok(d.open.length <= MAX_OPEN_PORTS_PER_DOOR);
    const open = new Set(d.open.map((e) => endpointKey(e.proto, e.port)));
    assert.equal(open.size, d.open.length, 'an open port listed twice');
    for (const e of d.open) assert.ok(e.port >= 1 && e.port <= 65_535);
    if (c.firewall === 'nftables') assert.ok(d.open.length >= 1, 'nftables door that opens nothing');
    else assert.equal(d.open.length, 0, 'firewall none cannot open ports');
    const kinds = [
      d.spa !== null,
      d.fwknop !== null,
      d.sequence !== null,
      d.oneTimeSequencesFile !== null,
      d.totp !== null,
    ].filter(Boolean).length;
    assert.equal(kinds, 1, `door ${d.name} is ${kinds} kinds of door`);
    if (d.sequence !== null) {
      assert.ok(d.sequence.length >= 1 && d.sequence.length <= MAX_SEQUENCE_STEPS);
      for (const s of d.sequence) assert.ok(s.port >= 1 && s.port <= 65_535 && !open.has(endpointKey(s.proto, s.port)));
    }
    if (d.totp !== null) assert.ok(isAbsolute(d.totp.secretFile));
    if (d.sequence !== null || d.oneTimeSequencesFile !== null || d.totp !== null) {
      assert.ok(d.sequenceTimeoutMs >= MIN_SEQUENCE_TIMEOUT_MS && d.sequenceTimeoutMs <= MAX_SEQUENCE_TIMEOUT_MS);
      if (d.oneTimeSequencesFile !== null) assert.ok(isAbsolute(d.oneTimeSequencesFile));
    }
    if (d.spa !== null) {
      assert.ok(d.spa.clients.length >= 1);
      for (const cl of d.spa.clients) {
        assert.equal(cl.id.length, 16);
        assert.equal(cl.idHex, Buffer.from(cl.id).toString('hex'));
        assert.ok(!clientIds.has(cl.idHex), 'client id used twice');
        clientIds.add(cl.idHex);
        assert.ok(
          cl.mode === 'psk'
            ? cl.psk?.length === 32 && cl.publicKey === undefined
            : cl.publicKey?.asymmetricKeyType === 'ed25519' && cl.psk === undefined,
        );
        for (const e of cl.allow)
          assert.ok(open.has(endpointKey(e.proto, e.port)), 'a client may ask for a port the door does not open');
        assert.ok(cl.maxDurationS >= MIN_GRANT_DURATION_S && cl.maxDurationS <= MAX_GRANT_DURATION_S);
        assert.ok(cl.minPrefix[4] >= 1 && cl.minPrefix[4] <= 32 && cl.minPrefix[6] >= 1 && cl.minPrefix[6] <= 128);
      }
    }
    if (d.fwknop !== null) {
      assert.ok(d.fwknop.stanzas.length >= 1);
      assert.ok(d.fwknop.maxDurationS >= d.durationS && d.fwknop.maxDurationS <= MAX_GRANT_DURATION_S);
      for (const st of d.fwknop.stanzas) {
        // A GnuPG-only stanza has no Rijndael key (no Rijndael packet is tried against it): its
        // HMAC key is what must be sound, checked as the compiler does, with a stand-in key.
        const gnupgOnly = st.gpg != null && st.key.length === 0;
        assert.equal(
          fwknopKeysProblem({
            key: gnupgOnly ? new Uint8Array(1) : st.key,
            hmacKey: st.hmacKey,
            hmacType: st.hmacType,
            encryptionMode: st.encryptionMode,
          }),
          null,
        );
        assert.ok(st.accessTimeoutS >= MIN_GRANT_DURATION_S && st.accessTimeoutS <= MAX_GRANT_DURATION_S);
        // A command cycle opens no firewall rule of its own (as fwknopd), so its ports need not be the door's.
        if (c.firewall === 'nftables' && st.cmdCycle == null)
          for (const e of st.openPorts ?? [])
            assert.ok(open.has(endpointKey(e.proto, e.port)), 'stanza opens a port the door does not protect');
      }
    }
  }
}
