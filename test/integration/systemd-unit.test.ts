/**
 * The shipped unit, contrib/systemd/knockgated.service, as systemd itself reads it: `systemd-analyze
 * verify` accepts it (with its /usr/local/bin paths pointed at this checkout's build, since nothing is
 * installed here), and `systemd-analyze security --offline=yes` rates its exposure at 2.5 or below.
 * The report is printed, so a run shows what is and is not sandboxed. What this cannot show: the
 * daemon running under that sandbox (this machine has no systemd as PID 1).
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon-process.js';
import { copyUnit } from '../support/systemd-analyze.js';

const UNIT = join(REPO_ROOT, 'contrib', 'systemd', 'knockgated.service');
/** `systemd-analyze security` exposure, in tenths (2.5 = 25), at or below which the test passes. */
const MAX_EXPOSURE_TENTHS = 25;

describe('contrib/systemd/knockgated.service', () => {
  const unit = copyUnit(UNIT, ['knockgated.service']);
  after(() => unit.remove());
  const { text } = unit;

  it('runs knockgated --check before the daemon, and does not restart on a bad config or a held lock', () => {
    assert.match(text, /^ExecStartPre=\/usr\/local\/bin\/knockgated -c \/etc\/knockgate\/knockgate\.yaml --check$/m);
    assert.match(text, /^ExecStart=\/usr\/local\/bin\/knockgated -c \/etc\/knockgate\/knockgate\.yaml$/m);
    assert.match(text, /^RestartPreventExitStatus=.*\b78\b/m);
    // A reload through the control socket, so that a refused configuration fails `systemctl reload`.
    assert.match(text, /^ExecReload=\/usr\/local\/bin\/knockgate reload --config \/etc\/knockgate\/knockgate\.yaml$/m);
    assert.match(text, /^RestartPreventExitStatus=.*\b75\b/m);
    assert.match(text, /^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE$/m);
  });

  it('systemd-analyze verify accepts it', () => {
    const r = unit.verify('knockgated.service');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify prints nothing for a clean unit');
  });

  it(`systemd-analyze security --offline=yes rates it ${MAX_EXPOSURE_TENTHS / 10} or below`, () => {
    const r = unit.security('knockgated.service', MAX_EXPOSURE_TENTHS);
    assert.ok(r.exposure, r.output);
    assert.equal(r.status, 0, `exposure ${r.exposure} is above ${MAX_EXPOSURE_TENTHS / 10}`);
  });
});
