/*
 * nft-elements-addon: the grant path's set-element transactions (nft-elements.c) run inside
 * knockgated itself, as a Node-API addon (built by scripts/build-native.sh into
 * dist/libexec/nft-elements.node), instead of a round trip to the knockgate-nft worker.
 *
 * Why: the transaction itself takes about 0.2 ms; the worker adds two process wake-ups (the
 * request down its stdin, the answer up its stdout), about 0.45 ms on the bench machine, and that
 * time is on the path from the last packet to an open port. Everything else (installing the
 * ruleset, listing it, `--check`) still goes to the worker, through libnftables.
 *
 * Contract:
 *   apply(request: Buffer) -> null | string
 *     `request` is an "@elements ..." request exactly as nft-elements.c reads it. Applied as one
 *     transaction, synchronously: null when the kernel acknowledged every message, else the
 *     kernel's error ("File exists", ...) or the request's fault, and then nothing of it was
 *     applied. It blocks the calling thread for the transaction (the kernel answers within
 *     sendmsg; a missing answer is waited for at most ACK_WAIT_MS). A non-Buffer argument throws
 *     a TypeError. The netlink socket is opened on first use and kept, in the network namespace
 *     the process was in then.
 */

#include <node_api.h>
#include <stddef.h>

#include "nft-elements.h"

static napi_value js_apply(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1];
	bool is_buffer = false;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
		napi_throw_type_error(env, NULL, "apply(request): one Buffer");
		return NULL;
	}
	void *data;
	size_t length;
	if (napi_get_buffer_info(env, argv[0], &data, &length) != napi_ok) {
		napi_throw_type_error(env, NULL, "apply(request): unreadable Buffer");
		return NULL;
	}
	char error[256];
	napi_value result;
	if (nft_elements_apply((const char *)data, length, error, sizeof error) == 0) {
		napi_get_null(env, &result);
		return result;
	}
	napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &result);
	return result;
}

static napi_value init(napi_env env, napi_value exports) {
	napi_property_descriptor props[] = {
		{"apply", NULL, js_apply, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}

NAPI_MODULE(nft_elements, init)
