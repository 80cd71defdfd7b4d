/** The daemon's counter snapshot: what a `stats` log line holds. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../src/daemon/counters.js';

describe('Counters', () => {
  it('counts by name from zero; the parts come under their prefixes, the SPA sockets summed', () => {
    const c = new Counters();
    const count = c.count; // handed out unbound, as the daemon does
    count('spa_granted');
    count('spa_granted');
    count('drop_bad_frame');
    const socket = (received: number, dropped: number) => ({ stats: () => ({ received, dropped }) });
    assert.deepEqual(
      c.snapshot({
        sequences: { tracked: 3 },
        capture: { received: 10, dropped: 1 },
        sockets: [socket(5, 0), socket(2, 4), {}],
      }),
      {
        spa_granted: 2,
        drop_bad_frame: 1,
        sequences_tracked: 3,
        capture_received: 10,
        capture_dropped: 1,
        socket_received: 7,
        socket_dropped: 4,
      },
    );
  });

  it('without captures or SPA sockets there are no capture_ or socket_ counters (not zeros that would read as "nothing arrived")', () => {
    assert.deepEqual(new Counters().snapshot({ sequences: {}, capture: null, sockets: [] }), {});
  });
});
