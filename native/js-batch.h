/*
 * js-batch.h: records handed to a JavaScript callback in batches, shared by knockgate's two
 * receive bindings (pcap-capture.c, udp-batch.c).
 *
 * Contract: the caller appends records into `data` (a Buffer JavaScript gave it, kept referenced
 * until js_batch_release) with js_batch_room, and calls js_batch_flush at the end of each readable
 * event. A flush calls onBatch(count, bytes) once, on the event-loop thread, through
 * napi_make_callback (so promises settle after it, as after any I/O callback); an exception it
 * throws goes to process 'uncaughtException'. `deliver` false discards the batch (closing).
 * A batch already handed to onBatch is JavaScript's to stop: a close() made from inside it must
 * end the JS loop over its records too (pcap-binding.ts and udp.ts check after every record).
 */

#ifndef KNOCKGATE_JS_BATCH_H
#define KNOCKGATE_JS_BATCH_H

#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct js_batch {
	napi_env env;
	napi_ref buffer_ref;
	napi_ref callback_ref;
	napi_async_context async;
	uint8_t *data;
	size_t size;
	size_t used;
	uint32_t count;
} js_batch;

/* Takes references to `buffer` and `callback`; false (nothing held) unless buffer is a Buffer of
 * at least min_size bytes and callback a function. */
static int js_batch_init(js_batch *b, napi_env env, napi_value buffer, napi_value callback, size_t min_size, const char *resource) {
	bool is_buffer = false;
	napi_valuetype t;
	void *data;
	size_t size;
	if (napi_is_buffer(env, buffer, &is_buffer) != napi_ok || !is_buffer) return 0;
	if (napi_get_buffer_info(env, buffer, &data, &size) != napi_ok || size < min_size) return 0;
	if (napi_typeof(env, callback, &t) != napi_ok || t != napi_function) return 0;
	napi_value name;
	b->env = env;
	b->data = data;
	b->size = size;
	b->used = 0;
	b->count = 0;
	napi_create_reference(env, buffer, 1, &b->buffer_ref);
	napi_create_reference(env, callback, 1, &b->callback_ref);
	napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name);
	napi_async_init(env, NULL, name, &b->async);
	return 1;
}

/* Where the next record of `need` bytes goes, flushing first when the batch is full; NULL when a
 * record that large can never fit. The caller then adds `need` to used and 1 to count. */
static uint8_t *js_batch_room(js_batch *b, size_t need, int deliver);

static void js_batch_flush(js_batch *b, int deliver) {
	if (b->count == 0 || !deliver || b->callback_ref == NULL) {
		b->count = 0;
		b->used = 0;
		return;
	}
	napi_env env = b->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	napi_value callback, recv, argv[2], result;
	napi_get_reference_value(env, b->callback_ref, &callback);
	napi_get_global(env, &recv);
	napi_create_uint32(env, b->count, &argv[0]);
	napi_create_uint32(env, (uint32_t)b->used, &argv[1]);
	b->count = 0;
	b->used = 0;
	if (napi_make_callback(env, b->async, recv, callback, 2, argv, &result) == napi_pending_exception) {
		napi_value err;
		napi_get_and_clear_last_exception(env, &err);
		napi_fatal_exception(env, err);
	}
	napi_close_handle_scope(env, scope);
}

static uint8_t *js_batch_room(js_batch *b, size_t need, int deliver) {
	if (need > b->size) return NULL;
	if (b->used + need > b->size) js_batch_flush(b, deliver);
	return b->data + b->used;
}

/* Drops the references; idempotent. */
static void js_batch_release(js_batch *b) {
	if (b->buffer_ref) napi_delete_reference(b->env, b->buffer_ref);
	if (b->callback_ref) napi_delete_reference(b->env, b->callback_ref);
	if (b->async) napi_async_destroy(b->env, b->async);
	b->buffer_ref = b->callback_ref = NULL;
	b->async = NULL;
}

#endif
