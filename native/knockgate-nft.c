/*
 * knockgate-nft: a long-lived libnftables worker for knockgated, so that a grant costs one
 * netlink transaction instead of spawning nft(8) (about 10 ms per spawn on a small machine).
 *
 * Contract (stdin/stdout are pipes to the daemon, nothing else talks to it):
 *   request:  "<length>\n" then <length> bytes: one nft JSON document ({"nftables": [...]}) or
 *             one nft command line (e.g. "list table inet knockgate"). A document is applied as
 *             one atomic transaction, exactly as `nft -j -f FILE` would apply it. A request
 *             that starts with "@elements" adds and deletes set elements in one transaction
 *             built here without libnftables (nft-elements.c: the grant path). A request
 *             that starts with "@check\n" is the JSON document after that line, checked and
 *             not applied (NFT_CTX_DRY_RUN, `nft -c`): the kernel validates the whole batch,
 *             then aborts it, so status 0 means the kernel would have taken it, and nothing
 *             of it is ever committed (knockgated --check).
 *   response: "<status> <length>\n" then <length> bytes. status 0: applied; the bytes are what
 *             nft would print (JSON, since output is in JSON mode). status 1: rejected, nothing
 *             was applied; the bytes are nft's error text.
 * Requests are handled strictly one at a time, in order. A malformed header, a request over
 * MAX_REQUEST_BYTES, or end of input ends the process (exit 0 on clean EOF, 65 otherwise); the
 * daemon then falls back to spawning nft, or restarts the worker.
 *
 * It takes no arguments and reads no files; it never runs a shell. It inherits the daemon's
 * privileges (CAP_NET_ADMIN) and nothing more.
 */

#include <errno.h>
#include <nftables/libnftables.h>
#include "nft-elements.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A batch of 512 grants is about 200 KiB of JSON; this leaves room and bounds the buffer. */
#define MAX_REQUEST_BYTES (16u * 1024u * 1024u)

static int read_exact(char *buf, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(STDIN_FILENO, buf + got, n - got);
		if (r == 0) return -1;
		if (r < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int write_all(const char *buf, size_t n) {
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
		if (w < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

/* Reads "<digits>\n"; returns 1 on a header, 0 on clean EOF before any byte, -1 on garbage. */
static int read_header(size_t *length) {
	char c;
	size_t value = 0;
	int digits = 0;
	for (;;) {
		ssize_t r = read(STDIN_FILENO, &c, 1);
		if (r == 0) return digits == 0 ? 0 : -1;
		if (r < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		if (c == '\n') break;
		if (c < '0' || c > '9' || digits >= 9) return -1;
		value = value * 10 + (size_t)(c - '0');
		digits++;
	}
	if (digits == 0) return -1;
	*length = value;
	return 1;
}

static int respond(int status, const char *body) {
	size_t n = body ? strlen(body) : 0;
	char header[32];
	int h = snprintf(header, sizeof header, "%d %zu\n", status, n);
	if (write_all(header, (size_t)h) != 0) return -1;
	return n ? write_all(body, n) : 0;
}

int main(void) {
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		fprintf(stderr, "knockgate-nft: cannot create an nftables context\n");
		return 69;
	}
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	if (nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0) {
		fprintf(stderr, "knockgate-nft: cannot buffer nftables output\n");
		return 69;
	}
	for (;;) {
		size_t length;
		int h = read_header(&length);
		if (h == 0) break;
		if (h < 0 || length == 0 || length > MAX_REQUEST_BYTES) {
			fprintf(stderr, "knockgate-nft: malformed request header\n");
			nft_ctx_free(nft);
			return 65;
		}
		char *request = malloc(length + 1);
		if (!request || read_exact(request, length) != 0) {
			fprintf(stderr, "knockgate-nft: request cut short\n");
			free(request);
			nft_ctx_free(nft);
			return 65;
		}
		request[length] = '\0';
		static const char check[] = "@check\n";
		if (length > sizeof check - 1 && memcmp(request, check, sizeof check - 1) == 0) {
			nft_ctx_set_dry_run(nft, true);
			int rc = nft_run_cmd_from_buffer(nft, request + sizeof check - 1);
			nft_ctx_set_dry_run(nft, false);
			free(request);
			const char *out = nft_ctx_get_output_buffer(nft);
			const char *err = nft_ctx_get_error_buffer(nft);
			if (respond(rc == 0 ? 0 : 1, rc == 0 ? out : err) != 0) break;
			continue;
		}
		if (request[0] == '@') {
			char error[256];
			int ok = nft_elements_apply(request, length, error, sizeof error) == 0;
			free(request);
			if (respond(ok ? 0 : 1, ok ? "" : error) != 0) break;
			continue;
		}
		int rc = nft_run_cmd_from_buffer(nft, request);
		free(request);
		/* Each get returns what was written since the previous get, and resets the buffer. */
		const char *out = nft_ctx_get_output_buffer(nft);
		const char *err = nft_ctx_get_error_buffer(nft);
		if (respond(rc == 0 ? 0 : 1, rc == 0 ? out : err) != 0) break;
	}
	nft_ctx_free(nft);
	return 0;
}
