/*
 * record-layout.h: the one declaration of the records the receive bindings write into a batch
 * Buffer, and of the batch sizes they require. The TypeScript decoders (src/sensors/udp.ts,
 * src/sensors/pcap-binding.ts) state the layout they decode; each addon exports its layout as
 * `recordLayout` (record_layout_export), and the decoder refuses to load an addon whose layout
 * is not exactly the one it decodes (src/sensors/record-layout.ts). That check runs against the
 * binary actually loaded, so a stale build is caught as well as an edit made on one side only.
 *
 * All multi-byte fields are little-endian (the host's order; poll-handle.h refuses other hosts).
 * A record is its header, then its bytes, then zero to three bytes of padding to a multiple of
 * RECORD_ALIGN_BYTES, so every header starts 4-aligned.
 */

#ifndef KNOCKGATE_RECORD_LAYOUT_H
#define KNOCKGATE_RECORD_LAYOUT_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_ALIGN_BYTES 4
/* The length a record of `n` bytes after its header takes, padding included. */
#define RECORD_PADDED(n) (((size_t)(n) + (RECORD_ALIGN_BYTES - 1)) & ~(size_t)(RECORD_ALIGN_BYTES - 1))

/* udp-batch.c: one record per datagram. */
#define UDP_RECORD_LENGTH_OFFSET 0               /* u32: payload bytes */
#define UDP_RECORD_SOURCE_PORT_OFFSET 4          /* u16 */
#define UDP_RECORD_SOURCE_FAMILY_OFFSET 6        /* u8: 4 or 6 */
#define UDP_RECORD_DESTINATION_FAMILY_OFFSET 7   /* u8: 4 or 6, 0 when the kernel did not say */
#define UDP_RECORD_SOURCE_ADDRESS_OFFSET 8       /* 16 bytes, IPv4 in the first 4, the rest zero */
#define UDP_RECORD_DESTINATION_ADDRESS_OFFSET 24 /* likewise */
#define UDP_RECORD_ADDRESS_BYTES 16
#define UDP_RECORD_HEADER_BYTES 40 /* the payload follows */
/* MAX_SPA_DATAGRAM_BYTES in src/core/limits.ts (test/unit/limits.test.ts keeps the two equal). */
#define MAX_DATAGRAM_BYTES 1024
/* The smallest batch Buffer udp-batch.c accepts: one record of the longest datagram. */
#define UDP_MIN_BATCH_BYTES (UDP_RECORD_HEADER_BYTES + MAX_DATAGRAM_BYTES)

_Static_assert(UDP_RECORD_SOURCE_ADDRESS_OFFSET + UDP_RECORD_ADDRESS_BYTES == UDP_RECORD_DESTINATION_ADDRESS_OFFSET, "udp record: addresses overlap");
_Static_assert(UDP_RECORD_DESTINATION_ADDRESS_OFFSET + UDP_RECORD_ADDRESS_BYTES == UDP_RECORD_HEADER_BYTES, "udp record: header size");
_Static_assert(UDP_RECORD_HEADER_BYTES % RECORD_ALIGN_BYTES == 0 && MAX_DATAGRAM_BYTES % RECORD_ALIGN_BYTES == 0, "udp record: alignment");

/* pcap-capture.c: one record per frame. */
#define PCAP_RECORD_CAPLEN_OFFSET 0  /* u32: captured bytes, which follow the header */
#define PCAP_RECORD_WIRELEN_OFFSET 4 /* u32: the frame's length on the wire */
#define PCAP_RECORD_HEADER_BYTES 8
/* The smallest batch Buffer pcap-capture.c accepts for a snap length: one record of a full frame. */
#define PCAP_MIN_BATCH_BYTES(snaplen) (PCAP_RECORD_HEADER_BYTES + RECORD_PADDED(snaplen))

_Static_assert(PCAP_RECORD_HEADER_BYTES % RECORD_ALIGN_BYTES == 0, "pcap record: alignment");

typedef struct record_field {
	const char *name;
	uint32_t value;
} record_field;

/* exports.recordLayout = a frozen object of the fields; 0, or -1 with an error pending. */
static int record_layout_export(napi_env env, napi_value exports, const record_field *fields, size_t count) {
	napi_value layout, v;
	if (napi_create_object(env, &layout) != napi_ok) return -1;
	for (size_t i = 0; i < count; i++) {
		if (napi_create_uint32(env, fields[i].value, &v) != napi_ok || napi_set_named_property(env, layout, fields[i].name, v) != napi_ok) return -1;
	}
	if (napi_object_freeze(env, layout) != napi_ok || napi_set_named_property(env, exports, "recordLayout", layout) != napi_ok) return -1;
	return 0;
}

#endif
