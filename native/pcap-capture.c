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
 *     records [u32le caplen][u32le wirelen][caplen bytes][pad to 4], and onBatch(count, bytes) is
 *     called once per batch. The records are valid only during that call. A frame longer than
 *     the snap length arrives cut (caplen < wirelen). onBatch runs on the event loop thread; an
 *     exception it throws goes to process 'uncaughtException'.
 *   linkType(handle) -> DLT number.     stats(handle) -> { received, dropped, ifDropped }
 *   close(handle): stops delivery at once (also from inside onBatch); idempotent.
 */

#include <node_api.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "js-batch.h"

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
	napi_env env;
	pcap_t *pcap;
	uv_poll_t poll;
	js_batch out;
	int closing;       /* close() was called; finish the current dispatch, then release */
	int dispatching;   /* inside pcap_dispatch */
	int released;      /* pcap and poll released */
	int poll_closed;   /* uv has finished closing the poll handle */
	int freed_by_gc;   /* the JS handle is gone; free the struct when the poll handle closes */
} capture;

static napi_value throw_error(napi_env env, const char *message) {
	napi_throw_error(env, NULL, message);
	return NULL;
}

static void on_poll_closed(uv_handle_t *h) {
	capture *c = (capture *)h->data;
	c->poll_closed = 1;
	if (c->freed_by_gc) free(c);
}

/* Releases libpcap and the poll handle; JS references are dropped here too. */
static void release(capture *c) {
	if (c->released) return;
	c->released = 1;
	uv_poll_stop(&c->poll);
	uv_close((uv_handle_t *)&c->poll, on_poll_closed);
	pcap_close(c->pcap);
	c->pcap = NULL;
	js_batch_release(&c->out);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
	capture *c = (capture *)user;
	if (c->closing) return;
	size_t caplen = hdr->caplen;
	size_t need = 8 + ((caplen + 3) & ~(size_t)3);
	/* NULL cannot happen: the batch is sized above the snap length. */
	uint8_t *p = js_batch_room(&c->out, need, !c->closing);
	if (p == NULL || c->closing) return; /* onBatch may have closed us */
	uint32_t cl = (uint32_t)caplen, wl = hdr->len;
	memcpy(p, &cl, 4); /* little-endian hosts only (x86-64, arm64): checked at open */
	memcpy(p + 4, &wl, 4);
	memcpy(p + 8, bytes, caplen);
	c->out.used += need;
	c->out.count++;
}

static void on_readable(uv_poll_t *h, int status, int events) {
	capture *c = (capture *)h->data;
	(void)events;
	if (c->released || c->closing) return;
	if (status < 0) return;
	c->dispatching = 1;
	pcap_dispatch(c->pcap, MAX_FRAMES_PER_EVENT, on_packet, (u_char *)c);
	js_batch_flush(&c->out, !c->closing);
	c->dispatching = 0;
	if (c->closing) release(c);
}

static void finalize(napi_env env, void *data, void *hint) {
	(void)env;
	(void)hint;
	capture *c = (capture *)data;
	c->closing = 1;
	if (!c->released) {
		c->freed_by_gc = 1;
		release(c);
	} else if (!c->poll_closed) {
		c->freed_by_gc = 1; /* on_poll_closed frees it */
	} else {
		free(c);
	}
}

static capture *unwrap(napi_env env, napi_value v) {
	void *data = NULL;
	if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) return NULL;
	return (capture *)data;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
	size_t argc = 7;
	napi_value argv[7];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc != 7) return throw_error(env, "open(device, filter, snaplen, bufferBytes, promisc, batch, onBatch)");
	uint16_t probe = 1;
	if (*(uint8_t *)&probe != 1) return throw_error(env, "pcap-capture supports little-endian hosts only");

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
	if (!is_buffer || napi_get_buffer_info(env, argv[5], &batch_data, &batch_size) != napi_ok || batch_size < (size_t)snaplen + 8)
		return throw_error(env, "batch must be a Buffer larger than snaplen + 8");
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
	c->env = env;
	c->pcap = p;
	js_batch_init(&c->out, env, argv[5], argv[6], (size_t)snaplen + 8, "knockgate.pcap"); /* checked above */
	uv_loop_t *loop;
	napi_get_uv_event_loop(env, &loop);
	c->poll.data = c;
	if (uv_poll_init(loop, &c->poll, fd) != 0 || uv_poll_start(&c->poll, UV_READABLE, on_readable) != 0) {
		js_batch_release(&c->out);
		pcap_close(p);
		free(c);
		return throw_error(env, "cannot watch the capture descriptor");
	}
	napi_value handle;
	napi_create_external(env, c, finalize, NULL, &handle);
	return handle;
}

static napi_value js_link_type(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1], out;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	capture *c = argc == 1 ? unwrap(env, argv[0]) : NULL;
	if (!c || c->released) return throw_error(env, "not an open capture");
	napi_create_int32(env, pcap_datalink(c->pcap), &out);
	return out;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1], out, v;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	capture *c = argc == 1 ? unwrap(env, argv[0]) : NULL;
	if (!c || c->released) return throw_error(env, "not an open capture");
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
	capture *c = argc == 1 ? unwrap(env, argv[0]) : NULL;
	if (!c) return throw_error(env, "not a capture");
	if (c->closing) return NULL;
	c->closing = 1;
	if (c->dispatching) {
		pcap_breakloop(c->pcap); /* on_readable releases once pcap_dispatch returns */
	} else {
		release(c);
	}
	return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
	napi_property_descriptor props[] = {
		{"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
		{"linkType", NULL, js_link_type, NULL, NULL, NULL, napi_default, NULL},
		{"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}

NAPI_MODULE(pcap_capture, init)
