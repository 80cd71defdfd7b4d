/*
 * pcap-capture: knockgate's own libpcap binding (Node-API, C), built by scripts/build-native.sh.
 *
 * Why our own: the capture must survive a flood. The binding we used before fixed the snap length
 * at 65,535 bytes, so libpcap's immediate-mode ring (TPACKET_V2, one fixed slot per frame) held
 * only ~127 frames in 16 MB; and it called into JavaScript once per packet. Here the snap length
 * is ours to choose (a knock needs well under 1 KiB), so the same memory holds thousands of
 * frames, and packets reach JavaScript in batches.
 *
 * Contract:
 *   open(device, filter, snaplen, bufferBytes, promisc, batch, onBatch) -> handle
 *     Opens a live capture in immediate, non-blocking mode with the BPF filter compiled for it.
 *     Throws an Error with libpcap's message on any failure (nothing is left open).
 *     When frames arrive, they are copied into `batch` (a Buffer kept referenced until close) as
 *     records [u32le caplen][u32le wirelen][caplen bytes][pad to 4] (record-layout.h), and
 *     onBatch(count, bytes) is called once per batch. `batch` must hold one full frame
 *     (PCAP_MIN_BATCH_BYTES(snaplen)). The records are valid only during that call. A frame
 *     longer than the snap length arrives cut (caplen < wirelen). onBatch runs on the event loop thread; an
 *     exception it throws goes to process 'uncaughtException'.
 *   linkType(handle) -> DLT number.     stats(handle) -> { received, dropped, ifDropped }
 *   close(handle): stops delivery at once (also from inside onBatch); idempotent.
 *   recordLayout: the record's offsets and sizes (record-layout.h), checked by pcap-binding.ts.
 * A handle is checked on every call (poll-handle.h): anything but an open capture is refused.
 */

#include <node_api.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "js-batch.h"
#include "poll-handle.h"
#include "record-layout.h"

#define MAX_DEVICE_CHARS 64
#define MAX_FILTER_CHARS 8192
/*
 * Frames taken per readable event before the event loop gets control back. pcap_dispatch(-1)
 * returns only when the ring is empty, which under a flood is never: timers, journal commits,
 * nftables answers and the SPA sockets would all wait for the flood to end. The descriptor is
 * polled level-triggered, so frames left in the ring raise the next event at once. 1,024 frames
 * are ~1 ms of work; the UDP binding caps its reads the same way.
 */
#define MAX_FRAMES_PER_EVENT 1024

typedef struct capture {
	poll_handle h; /* first: poll-handle.h frees the struct through it */
	pcap_t *pcap;
} capture;
POLL_HANDLE_FIRST_MEMBER(capture, h);

static napi_value throw_error(napi_env env, const char *message) {
	napi_throw_error(env, NULL, message);
	return NULL;
}

static void close_pcap(poll_handle *h) {
	capture *c = (capture *)h;
	pcap_close(c->pcap);
	c->pcap = NULL;
}

static const poll_handle_kind CAPTURE = {
	.tag = {0x6b6e6f636b676174ULL, 0x652e706361700001ULL}, /* "knockgate.pcap" 1 */
	.close_source = close_pcap,
};

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
	capture *c = (capture *)user;
	if (c->h.closing) return;
	size_t caplen = hdr->caplen;
	size_t need = PCAP_RECORD_HEADER_BYTES + RECORD_PADDED(caplen);
	/* NULL cannot happen: the batch holds PCAP_MIN_BATCH_BYTES(snaplen), checked at open. */
	uint8_t *p = js_batch_room(&c->h.out, need, !c->h.closing);
	if (p == NULL || c->h.closing) return; /* onBatch may have closed us */
	uint32_t cl = (uint32_t)caplen, wl = hdr->len;
	memcpy(p + PCAP_RECORD_CAPLEN_OFFSET, &cl, 4); /* little-endian hosts only: checked at open */
	memcpy(p + PCAP_RECORD_WIRELEN_OFFSET, &wl, 4);
	memcpy(p + PCAP_RECORD_HEADER_BYTES, bytes, caplen);
	c->h.out.used += need;
	c->h.out.count++;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
	capture *c = (capture *)poll->data;
	(void)events;
	if (!poll_handle_begin(&c->h, status)) return;
	pcap_dispatch(c->pcap, MAX_FRAMES_PER_EVENT, on_packet, (u_char *)c);
	poll_handle_end(&c->h);
}

/* The open capture behind a handle, or NULL (not a capture, or closed). */
static capture *open_capture(napi_env env, size_t argc, napi_value v) {
	capture *c = argc == 1 ? (capture *)poll_handle_unwrap(env, v, &CAPTURE) : NULL;
	return c != NULL && !c->h.released ? c : NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
	size_t argc = 7;
	napi_value argv[7];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc != 7) return throw_error(env, "open(device, filter, snaplen, bufferBytes, promisc, batch, onBatch)");
	const char *host_error = poll_handle_host_error();
	if (host_error) return throw_error(env, host_error);

	char device[MAX_DEVICE_CHARS + 1], filter[MAX_FILTER_CHARS + 1];
	size_t n;
	if (napi_get_value_string_utf8(env, argv[0], device, sizeof device, &n) != napi_ok || n == 0 || n >= MAX_DEVICE_CHARS)
		return throw_error(env, "device must be a non-empty string of at most 63 bytes");
	if (napi_get_value_string_utf8(env, argv[1], filter, sizeof filter, &n) != napi_ok || n >= MAX_FILTER_CHARS)
		return throw_error(env, "filter must be a string of at most 8191 bytes");
	int32_t snaplen, buffer_bytes;
	bool promisc, is_buffer;
	if (napi_get_value_int32(env, argv[2], &snaplen) != napi_ok || snaplen < 64 || snaplen > 65535)
		return throw_error(env, "snaplen must be 64..65535");
	if (napi_get_value_int32(env, argv[3], &buffer_bytes) != napi_ok || buffer_bytes < 65536)
		return throw_error(env, "bufferBytes must be at least 65536");
	if (napi_get_value_bool(env, argv[4], &promisc) != napi_ok) return throw_error(env, "promisc must be a boolean");
	void *batch_data;
	size_t batch_size;
	napi_is_buffer(env, argv[5], &is_buffer);
	if (!is_buffer || napi_get_buffer_info(env, argv[5], &batch_data, &batch_size) != napi_ok || batch_size < PCAP_MIN_BATCH_BYTES(snaplen))
		return throw_error(env, "batch must be a Buffer of at least snaplen + 8 bytes, snaplen rounded up to 4");
	napi_valuetype t;
	napi_typeof(env, argv[6], &t);
	if (t != napi_function) return throw_error(env, "onBatch must be a function");

	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(device, errbuf);
	if (!p) return throw_error(env, errbuf);
	char message[PCAP_ERRBUF_SIZE + 128];
	int rc;
	if ((rc = pcap_set_snaplen(p, snaplen)) != 0 || (rc = pcap_set_promisc(p, promisc ? 1 : 0)) != 0 ||
	    (rc = pcap_set_buffer_size(p, buffer_bytes)) != 0 || (rc = pcap_set_immediate_mode(p, 1)) != 0) {
		pcap_close(p);
		return throw_error(env, "cannot configure the capture");
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(message, sizeof message, "%s", pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc));
		pcap_close(p);
		return throw_error(env, message);
	}
	struct bpf_program prog;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(message, sizeof message, "bad capture filter: %s", pcap_geterr(p));
		pcap_close(p);
		return throw_error(env, message);
	}
	rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc != 0 || pcap_setnonblock(p, 1, errbuf) != 0) {
		snprintf(message, sizeof message, "cannot set the filter: %s", pcap_geterr(p));
		pcap_close(p);
		return throw_error(env, message);
	}
	int fd = pcap_get_selectable_fd(p);
	if (fd < 0) {
		pcap_close(p);
		return throw_error(env, "the capture has no selectable descriptor");
	}

	capture *c = calloc(1, sizeof *c);
	if (!c) {
		pcap_close(p);
		return throw_error(env, "out of memory");
	}
	c->pcap = p;
	js_batch_init(&c->h.out, env, argv[5], argv[6], PCAP_MIN_BATCH_BYTES(snaplen), "knockgate.pcap"); /* checked above */
	if (poll_handle_start(&c->h, env, &CAPTURE, fd, on_readable) != 0) {
		poll_handle_discard(&c->h); /* closes p, frees c */
		return throw_error(env, "cannot watch the capture descriptor");
	}
	return poll_handle_wrap(env, &c->h);
}

static napi_value js_link_type(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1], out;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	capture *c = open_capture(env, argc, argv[0]);
	if (!c) return throw_error(env, "not an open capture");
	napi_create_int32(env, pcap_datalink(c->pcap), &out);
	return out;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1], out, v;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	capture *c = open_capture(env, argc, argv[0]);
	if (!c) return throw_error(env, "not an open capture");
	struct pcap_stat st;
	if (pcap_stats(c->pcap, &st) != 0) return throw_error(env, pcap_geterr(c->pcap));
	napi_create_object(env, &out);
	napi_create_double(env, st.ps_recv, &v);
	napi_set_named_property(env, out, "received", v);
	napi_create_double(env, st.ps_drop, &v);
	napi_set_named_property(env, out, "dropped", v);
	napi_create_double(env, st.ps_ifdrop, &v);
	napi_set_named_property(env, out, "ifDropped", v);
	return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	capture *c = argc == 1 ? (capture *)poll_handle_unwrap(env, argv[0], &CAPTURE) : NULL;
	if (!c) return throw_error(env, "not a capture");
	if (poll_handle_close(&c->h)) pcap_breakloop(c->pcap); /* on_readable releases once pcap_dispatch returns */
	return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
	napi_property_descriptor props[] = {
		{"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
		{"linkType", NULL, js_link_type, NULL, NULL, NULL, napi_default, NULL},
		{"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
	};
	static const record_field layout[] = {
		{"headerBytes", PCAP_RECORD_HEADER_BYTES},
		{"caplenOffset", PCAP_RECORD_CAPLEN_OFFSET},
		{"wirelenOffset", PCAP_RECORD_WIRELEN_OFFSET},
		{"alignBytes", RECORD_ALIGN_BYTES},
	};
	if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
	    record_layout_export(env, exports, layout, sizeof layout / sizeof layout[0]) != 0)
		return NULL;
	return exports;
}

NAPI_MODULE(pcap_capture, init)
