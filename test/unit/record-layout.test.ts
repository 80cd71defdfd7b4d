/**
 * Covers the record layouts shared by native/record-layout.h and the decoders (src/sensors/
 * record-layout.ts, udp.ts, pcap-binding.ts): the built addons export exactly the layouts the
 * decoders read, and an addon whose layout differs in any field, or that exports none (a build
 * from before the export), is refused with KG_CAPTURE_FAILED naming the fields.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KnockgateError } from '../../src/core/errors.js';
import { loadNativeAddon } from '../../src/sensors/native-addon.js';
import { PCAP_RECORD_LAYOUT } from '../../src/sensors/pcap-binding.js';
import { checkRecordLayout, type RecordLayout } from '../../src/sensors/record-layout.js';
import { UDP_RECORD_LAYOUT } from '../../src/sensors/udp.js';

interface WithLayout {
  readonly recordLayout: RecordLayout;
}

function refused(fn: () => void, ...fields: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KnockgateError);
    assert.equal(err.code, 'KG_CAPTURE_FAILED');
    assert.match(err.message, /^udp-batch\.node writes records the decoder does not read/);
    for (const f of fields) assert.ok(err.message.includes(f), `${f} not in: ${err.message}`);
    return true;
  });
}

describe('record layouts of the receive bindings', () => {
  it('the built addons export exactly the layouts the decoders read', () => {
    const udp = loadNativeAddon<WithLayout>('udp-batch.node', 'UDP binding', UDP_RECORD_LAYOUT);
    const pcap = loadNativeAddon<WithLayout>('pcap-capture.node', 'libpcap binding', PCAP_RECORD_LAYOUT);
    assert.deepEqual({ ...udp.recordLayout }, { ...UDP_RECORD_LAYOUT });
    assert.deepEqual({ ...pcap.recordLayout }, { ...PCAP_RECORD_LAYOUT });
    assert.equal(UDP_RECORD_LAYOUT.headerBytes, 40);
    assert.equal(UDP_RECORD_LAYOUT.minBatchBytes, 1064);
    assert.equal(PCAP_RECORD_LAYOUT.headerBytes, 8);
  });

  it('a layout that differs in one field is refused, naming the field and both values', () => {
    refused(
      () =>
        checkRecordLayout('udp-batch.node', { ...UDP_RECORD_LAYOUT, destinationAddressOffset: 28 }, UDP_RECORD_LAYOUT),
      'destinationAddressOffset: 28 (decoder expects 24)',
    );
  });

  it('a missing or an extra field is refused', () => {
    const { alignBytes: _, ...missing } = UDP_RECORD_LAYOUT;
    refused(
      () => checkRecordLayout('udp-batch.node', missing, UDP_RECORD_LAYOUT),
      'alignBytes: undefined (decoder expects 4)',
    );
    refused(
      () => checkRecordLayout('udp-batch.node', { ...UDP_RECORD_LAYOUT, flagsOffset: 40 }, UDP_RECORD_LAYOUT),
      'flagsOffset: 40 (decoder expects undefined)',
    );
  });

  it('an addon that exports no layout (a stale build) is refused, naming every field', () => {
    refused(
      () => checkRecordLayout('udp-batch.node', undefined, UDP_RECORD_LAYOUT),
      'headerBytes: undefined (decoder expects 40)',
      'minBatchBytes: undefined (decoder expects 1064)',
      'stale build',
    );
  });
});
