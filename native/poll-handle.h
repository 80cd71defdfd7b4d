/*
 * poll-handle.h: the JavaScript handle of a receive binding (pcap-capture.c, udp-batch.c): a
 * descriptor watched with uv_poll, a js_batch of records for onBatch, and the close/GC life cycle.
 * One copy, so that the checks on a handle are the same in both bindings.
 *
 * Contract:
 *   - A binding embeds a poll_handle as the FIRST member of its struct (checked with
 *     POLL_HANDLE_FIRST_MEMBER), allocated with calloc; the struct is freed here, never by the
 *     binding once poll_handle_wrap has succeeded.
 *   - Its kind names a type tag (unique per binding) and close_source, which closes what owns the
 *     descriptor (pcap_close, close(2)). close_source runs exactly once, in poll_handle_release.
 *   - poll_handle_unwrap accepts only an external made by poll_handle_wrap for the same kind and
 *     not yet finalized: NULL for anything else (another binding's handle, a plain object), so a
 *     handle of one binding never reaches the other's code.
 *   - The records are written in host byte order and decoded as little-endian (pcap-binding.ts,
 *     udp.ts), so poll_handle_host_error() refuses big-endian hosts at open.
 *   - A readable event is poll_handle_begin ... poll_handle_end. close() inside it (from onBatch)
 *     only marks the handle closing; poll_handle_end releases once the event's work is done, and
 *     no batch is delivered after close() returned. The memory stays until both the JS handle is
 *     collected and uv has finished closing the poll handle, whichever is later.
 */

#ifndef KNOCKGATE_POLL_HANDLE_H
#define KNOCKGATE_POLL_HANDLE_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "js-batch.h"

typedef struct poll_handle poll_handle;

typedef struct poll_handle_kind {
	napi_type_tag tag;                   /* unique per binding: tells one binding's handles from another's */
	void (*close_source)(poll_handle *); /* closes what owns the descriptor; called once */
} poll_handle_kind;

struct poll_handle {
	uv_poll_t poll;
	js_batch out;
	const poll_handle_kind *kind;
	int poll_started; /* uv_poll_init succeeded: the loop knows the handle, uv_close must free it */
	int closing;      /* close() was called (or GC); finish the current event, then release */
	int dispatching;  /* inside the binding's readable event */
	int released;     /* source and poll handle released, JS references dropped */
	int poll_closed;  /* uv has finished closing the poll handle */
	int freed_by_gc;  /* the JS handle is gone; free the struct when the poll handle closes */
};

/* Put after the binding's struct: `POLL_HANDLE_FIRST_MEMBER(capture, h);` */
#define POLL_HANDLE_FIRST_MEMBER(type, member) _Static_assert(offsetof(type, member) == 0, #type "." #member " must be the first member (poll-handle.h frees the struct through it)")

/* NULL on a host whose byte order the JavaScript decoders do not read; else the error to throw. */
static const char *poll_handle_host_error(void) {
	uint16_t probe = 1;
	return *(uint8_t *)&probe == 1 ? NULL : "knockgate's receive bindings support little-endian hosts only";
}

static void poll_handle_on_closed(uv_handle_t *uv) {
	poll_handle *h = (poll_handle *)uv->data;
	h->poll_closed = 1;
	if (h->freed_by_gc) free(h);
}

/* Releases the source and the poll handle and drops the JS references; idempotent. */
static void poll_handle_release(poll_handle *h) {
	if (h->released) return;
	h->released = 1;
	if (h->poll_started) {
		uv_poll_stop(&h->poll);
		uv_close((uv_handle_t *)&h->poll, poll_handle_on_closed);
	} else {
		h->poll_closed = 1;
	}
	h->kind->close_source(h);
	js_batch_release(&h->out);
}

/* Starts watching fd; 0, or -1 (the caller then calls poll_handle_discard). */
static int poll_handle_start(poll_handle *h, napi_env env, const poll_handle_kind *kind, int fd, uv_poll_cb on_readable) {
	uv_loop_t *loop;
	h->kind = kind;
	h->poll.data = h;
	if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &h->poll, fd) != 0) return -1;
	h->poll_started = 1;
	return uv_poll_start(&h->poll, UV_READABLE, on_readable) == 0 ? 0 : -1;
}

/* Undoes a failed open after poll_handle_start: releases everything, frees the struct (at once, or
 * when uv has closed the poll handle). */
static void poll_handle_discard(poll_handle *h) {
	h->closing = 1;
	h->freed_by_gc = 1;
	poll_handle_release(h);
	if (h->poll_closed) free(h);
}

static void poll_handle_finalize(napi_env env, void *data, void *hint) {
	(void)env;
	(void)hint;
	poll_handle *h = (poll_handle *)data;
	h->closing = 1;
	h->freed_by_gc = 1; /* poll_handle_on_closed frees it, unless uv has already closed the poll */
	poll_handle_release(h);
	if (h->poll_closed) free(h);
}

/* The JS handle for a started poll_handle; on failure the handle is discarded and an error is
 * pending (return NULL). */
static napi_value poll_handle_wrap(napi_env env, poll_handle *h) {
	napi_value v;
	if (napi_create_external(env, h, poll_handle_finalize, NULL, &v) != napi_ok) {
		poll_handle_discard(h);
		napi_throw_error(env, NULL, "cannot create the handle");
		return NULL;
	}
	if (napi_type_tag_object(env, v, &h->kind->tag) != napi_ok) {
		/* The external owns h now: GC frees it; stop it here. */
		h->closing = 1;
		poll_handle_release(h);
		napi_throw_error(env, NULL, "cannot tag the handle");
		return NULL;
	}
	return v;
}

/* The poll_handle behind a JS value made by poll_handle_wrap for `kind`, else NULL. */
static poll_handle *poll_handle_unwrap(napi_env env, napi_value v, const poll_handle_kind *kind) {
	napi_valuetype t;
	bool tagged = false;
	void *data = NULL;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
	if (napi_check_object_type_tag(env, v, &kind->tag, &tagged) != napi_ok || !tagged) return NULL;
	if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) return NULL;
	return (poll_handle *)data;
}

/* At the start of a readable event: 1 when the binding should read now (it then calls
 * poll_handle_end), 0 when the handle is closing or the poll reported an error. */
static int poll_handle_begin(poll_handle *h, int status) {
	if (h->released || h->closing || status < 0) return 0;
	h->dispatching = 1;
	return 1;
}

/* At the end of a readable event: delivers what is left of the batch (unless closing), and
 * releases if close() was called during the event. */
static void poll_handle_end(poll_handle *h) {
	js_batch_flush(&h->out, !h->closing);
	h->dispatching = 0;
	if (h->closing) poll_handle_release(h);
}

/* close(): idempotent. 1 when called during the binding's readable event (the release is then
 * left to poll_handle_end, and the binding may interrupt its read), else 0. */
static int poll_handle_close(poll_handle *h) {
	if (h->closing) return 0;
	h->closing = 1;
	if (h->dispatching) return 1;
	poll_handle_release(h);
	return 0;
}

#endif
