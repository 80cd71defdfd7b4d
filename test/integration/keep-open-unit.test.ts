/**
 * The shipped client unit, contrib/systemd/knockgate-keep-open@.service, as systemd reads it:
 * `systemd-analyze verify` accepts the template and an instance of it (its /usr/local/bin path
 * pointed at this checkout's build), and `systemd-analyze security --offline=yes` rates its
 * exposure at 2.0 or below; the lines its contract rests on are there. What this cannot show: the
 * unit started by systemd (this machine has no systemd as PID 1); keep-open.test.ts runs the
 * unit's own command line and environment against the real daemon instead.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon-process.js';
import { copyUnit } from '../support/systemd-analyze.js';

const TEMPLATE = 'knockgate-keep-open@.service';
const INSTANCE = 'knockgate-keep-open@gw.service';
/** `systemd-analyze security` exposure, in tenths, at or below which the test passes. */
const MAX_EXPOSURE_TENTHS = 20;

describe('contrib/systemd/knockgate-keep-open@.service', () => {
  const unit = copyUnit(join(REPO_ROOT, 'contrib', 'systemd', TEMPLATE), [TEMPLATE, INSTANCE]);
  after(() => unit.remove());
  const { text } = unit;

  it('starts after the network is online, knocks profile %i from /etc, restarts on failure but not on a usage error', () => {
    assert.match(text, /^After=network-online\.target$/m);
    assert.match(text, /^Wants=network-online\.target$/m);
    assert.match(text, /^Environment=XDG_CONFIG_HOME=\/etc$/m);
    assert.match(text, /^ExecStart=\/usr\/local\/bin\/knockgate keep-open %i$/m);
    assert.match(text, /^Restart=on-failure$/m);
    assert.match(text, /^RestartPreventExitStatus=64$/m);
    assert.match(text, /^CapabilityBoundingSet=$/m, 'no capabilities');
    assert.match(text, /^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK$/m, 'UDP out is allowed');
    assert.doesNotMatch(text, /^PrivateNetwork=yes/m);
  });

  for (const name of [TEMPLATE, INSTANCE]) {
    it(`systemd-analyze verify accepts ${name === TEMPLATE ? 'the template' : 'an instance'}`, () => {
      const r = unit.verify(name);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(r.stderr.trim(), '', 'verify prints nothing for a clean unit');
    });
  }

  it(`systemd-analyze security --offline=yes rates it ${MAX_EXPOSURE_TENTHS / 10} or below`, () => {
    const r = unit.security(INSTANCE, MAX_EXPOSURE_TENTHS);
    assert.ok(r.exposure, r.output);
    assert.equal(r.status, 0, `exposure ${r.exposure} is above ${MAX_EXPOSURE_TENTHS / 10}`);
  });
});
