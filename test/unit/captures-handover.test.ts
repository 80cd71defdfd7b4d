/**
 * Covers src/daemon/captures.ts's hand-over when the filter changes (a one-time sequence used, a
 * time-based door's period turning, a reload): the old capture keeps delivering until two turns of
 * the event loop have passed (a frame still queued in its ring is not lost); what the new capture
 * receives meanwhile is delivered after it, once, less the packets both captures saw; then the old
 * capture is closed and the new one delivers directly.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Captures } from '../../src/daemon/captures.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import { MemoryPacketSources } from '../../src/sensors/memory.js';
import { tcpFrame } from '../support/frames.js';

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
const portOf = (frame: Uint8Array): number => ((frame[22] as number) << 8) | (frame[23] as number);

describe('Captures: a filter change loses no packet and delivers none twice', () => {
  it('hands over from the old capture to the new one', async () => {
    const sources = new MemoryPacketSources('raw');
    const got: number[] = [];
    const captures = new Captures(sources, (_s, frame) => got.push(portOf(frame)), new MemoryLogger());
    captures.reopen(['any'], [{ proto: 'tcp', port: 1000 }]);
    const [old] = sources.opened;
    captures.reopen(['any'], [{ proto: 'tcp', port: 2000 }]);
    const [, next] = sources.opened;
    assert.ok(old && next);
    assert.equal(old.isOpen, true, 'the old capture stays open for the hand-over');
    old.inject(tcpFrame({ src: '198.18.0.2' }, 1000)); // still queued in the old ring
    next.inject(tcpFrame({ src: '198.18.0.2' }, 2000)); // only the new filter takes it
    sources.inject(tcpFrame({ src: '198.18.0.2' }, 3000)); // both captures saw it
    assert.deepEqual(got, [1000, 3000], 'the old capture delivers at once; the new one holds');
    await turns(3);
    assert.equal(old.isOpen, false, 'closed after the hand-over');
    assert.deepEqual(got, [1000, 3000, 2000], 'the held frame once, the one both saw not again');
    sources.inject(tcpFrame({ src: '198.18.0.2' }, 4000));
    assert.deepEqual(got, [1000, 3000, 2000, 4000], 'then the new capture delivers directly');
    captures.close();
    assert.equal(next.isOpen, false);
  });

  it('a second change during a hand-over ends the first one: at most two generations are open', () => {
    const sources = new MemoryPacketSources('raw');
    const got: number[] = [];
    const captures = new Captures(sources, (_s, frame) => got.push(portOf(frame)), new MemoryLogger());
    captures.reopen(['any'], [{ proto: 'tcp', port: 1000 }]);
    captures.reopen(['any'], [{ proto: 'tcp', port: 2000 }]);
    sources.opened[1]?.inject(tcpFrame({ src: '198.18.0.2' }, 2000));
    captures.reopen(['any'], [{ proto: 'tcp', port: 3000 }]);
    assert.deepEqual(
      sources.opened.map((s) => s.isOpen),
      [false, true, true],
    );
    assert.deepEqual(got, [2000], 'what the middle capture held was delivered when its hand-over ended');
    captures.close();
    assert.equal(sources.live().length, 0);
  });

  it('revert() during a hand-over brings the old capture back and closes the new one', () => {
    const sources = new MemoryPacketSources('raw');
    const got: number[] = [];
    const captures = new Captures(sources, (_s, frame) => got.push(portOf(frame)), new MemoryLogger());
    captures.reopen(['any'], [{ proto: 'tcp', port: 1000 }]);
    captures.reopen(['any'], [{ proto: 'tcp', port: 2000 }]);
    assert.equal(captures.revert(), true);
    assert.deepEqual(
      sources.opened.map((s) => s.isOpen),
      [true, false],
    );
    sources.inject(tcpFrame({ src: '198.18.0.2' }, 1000));
    assert.deepEqual(got, [1000]);
    assert.equal(captures.revert(), false, 'nothing left to undo');
    captures.close();
  });
});
