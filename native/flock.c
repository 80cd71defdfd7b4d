/*
 * flock: the one call Node lacks for knockgate's table lock (src/stores/table-lock.ts), as a
 * Node-API addon in C (built by scripts/build-native.sh into dist/libexec/flock.node).
 *
 * Contract:
 *   tryLockExclusive(fd) -> boolean
 *     flock(fd, LOCK_EX | LOCK_NB): true when this open file description now holds the exclusive
 *     lock (or already held it), false when another one holds it (EWOULDBLOCK). Any other error
 *     (EBADF, EINVAL, ENOLCK, ...) throws an Error "flock: <strerror>" with .code set to the errno
 *     name where known. Never blocks. EINTR is retried.
 * The lock belongs to the open file description: closing every fd that refers to it, or the
 * process ending in any way (SIGKILL included), releases it. Unlocking is by close(2) only.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

static napi_value throw_errno(napi_env env, int e) {
	char message[128];
	snprintf(message, sizeof message, "flock: %s", strerror(e));
	const char *code = e == EBADF ? "EBADF" : e == EINVAL ? "EINVAL" : e == ENOLCK ? "ENOLCK" : NULL;
	napi_throw_error(env, code, message);
	return NULL;
}

static napi_value js_try_lock_exclusive(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
		napi_throw_type_error(env, NULL, "tryLockExclusive(fd): one argument");
		return NULL;
	}
	int32_t fd;
	if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
		napi_throw_type_error(env, NULL, "tryLockExclusive(fd): fd must be a non-negative integer");
		return NULL;
	}
	int r;
	do {
		r = flock(fd, LOCK_EX | LOCK_NB);
	} while (r != 0 && errno == EINTR);
	napi_value result;
	if (r == 0) {
		napi_get_boolean(env, true, &result);
		return result;
	}
	if (errno == EWOULDBLOCK) {
		napi_get_boolean(env, false, &result);
		return result;
	}
	return throw_errno(env, errno);
}

static napi_value init(napi_env env, napi_value exports) {
	napi_property_descriptor props[] = {
		{"tryLockExclusive", NULL, js_try_lock_exclusive, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}

NAPI_MODULE(flock, init)
