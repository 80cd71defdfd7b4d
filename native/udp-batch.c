/*
 * udp-batch: a receive-only UDP socket for SPA, read with recvmmsg(2) and handed to JavaScript in
 * batches (Node-API, C; built by scripts/build-native.sh).
 *
 * Why not node:dgram: it reads one datagram per system call and makes a Buffer and an object per
 * datagram; at 100k datagrams/s of junk that is half a core, and the socket's queue overflows
 * during the event loop's pauses (12% of datagrams lost, legitimate ones among them). Here one
 * recvmmsg reads up to 64, and JavaScript is called once per batch. The receive buffer is set
 * with SO_RCVBUFFORCE (we run as root) so that net.core.rmem_max does not cap it.
 *
 * Contract:
 *   open(port, bufferBytes, batch, onBatch) -> handle
 *     Binds [::]:port dual-stack (IPv4 peers arrive as family 4), or 0.0.0.0:port when the host
 *     has no IPv6. Exclusive: fails if the port is taken. Throws an Error naming the step.
 *     Records in `batch`: [u32le length][u16le source port][u8 family 4|6][u8 destination
 *     family 4|6, or 0 when the kernel did not say][16 bytes source address, IPv4 in the first
 *     4][16 bytes destination address, likewise][payload][pad to 4] (record-layout.h); `batch`
 *     must hold UDP_MIN_BATCH_BYTES. The destination (the address the datagram was sent to, for
 *     fwknop's DESTINATION) comes from IP_PKTINFO / IPV6_PKTINFO ancillary data; an IPv4
 *     destination on the dual-stack socket arrives v4-mapped and is reported as family 4. A
 *     datagram longer than MAX_DATAGRAM_BYTES arrives cut to that length (longer than any SPA packet, so the
 *     handler's size check drops it). onBatch(count, bytes) once per batch; records are valid only
 *     during the call; an exception it throws goes to process 'uncaughtException'.
 *   stats(handle) -> { received, dropped }   (dropped: the kernel's SO_RXQ_OVFL count)
 *   close(handle): idempotent; stops delivery at once, also from inside onBatch.
 *   recordLayout: the record's offsets and sizes (record-layout.h), checked by udp.ts.
 * A handle is checked on every call (poll-handle.h): anything but a receiver is refused.
 * The socket never sends.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "js-batch.h"
#include "poll-handle.h"
#include "record-layout.h"

#define VLEN 64
/* Datagrams read per readable event before the loop gets control back. */
#define MAX_PER_EVENT 4096

typedef struct receiver {
	poll_handle h; /* first: poll-handle.h frees the struct through it */
	int fd;
	double received;
	double dropped;
	uint8_t bufs[VLEN][MAX_DATAGRAM_BYTES];
	struct sockaddr_in6 addrs[VLEN];
	struct iovec iov[VLEN];
	struct mmsghdr msgs[VLEN];
	char control[VLEN][CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
} receiver;
POLL_HANDLE_FIRST_MEMBER(receiver, h);

static napi_value throw_error(napi_env env, const char *message) {
	napi_throw_error(env, NULL, message);
	return NULL;
}

static void close_socket(poll_handle *h) {
	receiver *r = (receiver *)h;
	close(r->fd);
	r->fd = -1;
}

static const poll_handle_kind RECEIVER = {
	.tag = {0x6b6e6f636b676174ULL, 0x652e756470000001ULL}, /* "knockgate.udp" 1 */
	.close_source = close_socket,
};

#define SOURCE_FAMILY(p) (p)[UDP_RECORD_SOURCE_FAMILY_OFFSET]
#define DESTINATION_FAMILY(p) (p)[UDP_RECORD_DESTINATION_FAMILY_OFFSET]

static void append(receiver *r, const struct mmsghdr *m, const uint8_t *data) {
	size_t len = m->msg_len;
	size_t need = UDP_RECORD_HEADER_BYTES + RECORD_PADDED(len);
	/* NULL cannot happen: the batch holds UDP_MIN_BATCH_BYTES, one datagram of MAX_DATAGRAM_BYTES. */
	uint8_t *p = js_batch_room(&r->h.out, need, !r->h.closing);
	if (p == NULL || r->h.closing) return; /* onBatch may have closed us */
	memset(p, 0, UDP_RECORD_HEADER_BYTES);
	uint32_t l = (uint32_t)len;
	memcpy(p + UDP_RECORD_LENGTH_OFFSET, &l, 4);
	uint8_t *source = p + UDP_RECORD_SOURCE_ADDRESS_OFFSET, *destination = p + UDP_RECORD_DESTINATION_ADDRESS_OFFSET;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)m->msg_hdr.msg_name;
	if (a6->sin6_family == AF_INET6) {
		uint16_t port = ntohs(a6->sin6_port);
		memcpy(p + UDP_RECORD_SOURCE_PORT_OFFSET, &port, 2);
		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			SOURCE_FAMILY(p) = 4;
			memcpy(source, &a6->sin6_addr.s6_addr[12], 4);
		} else {
			SOURCE_FAMILY(p) = 6;
			memcpy(source, &a6->sin6_addr, 16);
		}
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)m->msg_hdr.msg_name;
		uint16_t port = ntohs(a4->sin_port);
		memcpy(p + UDP_RECORD_SOURCE_PORT_OFFSET, &port, 2);
		SOURCE_FAMILY(p) = 4;
		memcpy(source, &a4->sin_addr, 4);
	}
	/* The destination address, from the ancillary data (none: family 0, matched by no DESTINATION). */
	struct msghdr *h = (struct msghdr *)&m->msg_hdr;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
				DESTINATION_FAMILY(p) = 4;
				memcpy(destination, &pi.ipi6_addr.s6_addr[12], 4);
			} else {
				DESTINATION_FAMILY(p) = 6;
				memcpy(destination, &pi.ipi6_addr, 16);
			}
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo)) && DESTINATION_FAMILY(p) == 0) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			DESTINATION_FAMILY(p) = 4;
			memcpy(destination, &pi.ipi_addr, 4); /* ipi_addr: the header's destination address */
		}
	}
	memcpy(p + UDP_RECORD_HEADER_BYTES, data, len);
	r->h.out.used += need;
	r->h.out.count++;
}

/* The kernel's count of datagrams dropped for a full queue, from SO_RXQ_OVFL ancillary data. */
static void note_overflow(receiver *r, struct msghdr *h) {
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;
			memcpy(&v, CMSG_DATA(c), sizeof v);
			r->dropped = v;
		}
	}
}

static void on_readable(uv_poll_t *poll, int status, int events) {
	receiver *r = (receiver *)poll->data;
	(void)events;
	if (!poll_handle_begin(&r->h, status)) return;
	int total = 0;
	while (total < MAX_PER_EVENT && !r->h.closing) {
		for (int i = 0; i < VLEN; i++) {
			r->iov[i].iov_base = r->bufs[i];
			r->iov[i].iov_len = MAX_DATAGRAM_BYTES;
			memset(&r->msgs[i].msg_hdr, 0, sizeof r->msgs[i].msg_hdr);
			r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
			r->msgs[i].msg_hdr.msg_iovlen = 1;
			r->msgs[i].msg_hdr.msg_name = &r->addrs[i];
			r->msgs[i].msg_hdr.msg_namelen = sizeof r->addrs[i];
			r->msgs[i].msg_hdr.msg_control = r->control[i];
			r->msgs[i].msg_hdr.msg_controllen = sizeof r->control[i];
		}
		int n = recvmmsg(r->fd, r->msgs, VLEN, MSG_DONTWAIT, NULL);
		if (n <= 0) break; /* EAGAIN: drained; other errors on UDP are per-datagram (ICMP) */
		for (int i = 0; i < n && !r->h.closing; i++) {
			note_overflow(r, &r->msgs[i].msg_hdr);
			append(r, &r->msgs[i], r->bufs[i]);
		}
		r->received += n;
		total += n;
		if (n < VLEN) break;
	}
	poll_handle_end(&r->h);
}

static receiver *unwrap(napi_env env, size_t argc, napi_value v) {
	return argc == 1 ? (receiver *)poll_handle_unwrap(env, v, &RECEIVER) : NULL;
}

static int open_socket(int port, int buffer_bytes, char *err, size_t errlen) {
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 a = {0};
		a.sin6_family = AF_INET6;
		a.sin6_port = htons((uint16_t)port);
		a.sin6_addr = in6addr_any;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0 ||
		    bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			int e = errno;
			close(fd);
			fd = -1;
			if (e == EADDRINUSE || e == EACCES) {
				snprintf(err, errlen, "bind [::]:%d: %s", port, strerror(e));
				return -1;
			}
		}
	}
	if (fd < 0) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
			snprintf(err, errlen, "setsockopt IP_PKTINFO: %s", strerror(errno));
			close(fd);
			return -1;
		}
		struct sockaddr_in a = {0};
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)port);
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			snprintf(err, errlen, "bind 0.0.0.0:%d: %s", port, strerror(errno));
			close(fd);
			return -1;
		}
	}
	/* Root may exceed net.core.rmem_max; otherwise the kernel caps the plain request. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	return fd;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
	size_t argc = 4;
	napi_value argv[4];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc != 4) return throw_error(env, "open(port, bufferBytes, batch, onBatch)");
	const char *host_error = poll_handle_host_error();
	if (host_error) return throw_error(env, host_error);
	int32_t port, buffer_bytes;
	if (napi_get_value_int32(env, argv[0], &port) != napi_ok || port < 1 || port > 65535) return throw_error(env, "port must be 1..65535");
	if (napi_get_value_int32(env, argv[1], &buffer_bytes) != napi_ok || buffer_bytes < 65536) return throw_error(env, "bufferBytes must be at least 65536");
	receiver *r = calloc(1, sizeof *r);
	if (!r) return throw_error(env, "out of memory");
	if (!js_batch_init(&r->h.out, env, argv[2], argv[3], UDP_MIN_BATCH_BYTES, "knockgate.udp")) {
		free(r);
		char message[96];
		snprintf(message, sizeof message, "batch must be a Buffer of at least %d bytes, onBatch a function", UDP_MIN_BATCH_BYTES);
		return throw_error(env, message);
	}
	char err[160];
	int fd = open_socket(port, buffer_bytes, err, sizeof err);
	if (fd < 0) {
		js_batch_release(&r->h.out);
		free(r);
		return throw_error(env, err);
	}
	r->fd = fd;
	if (poll_handle_start(&r->h, env, &RECEIVER, fd, on_readable) != 0) {
		poll_handle_discard(&r->h); /* closes fd, frees r */
		return throw_error(env, "cannot watch the socket");
	}
	return poll_handle_wrap(env, &r->h);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1], out, v;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	receiver *r = unwrap(env, argc, argv[0]);
	if (!r) return throw_error(env, "not a receiver");
	napi_create_object(env, &out);
	napi_create_double(env, r->received, &v);
	napi_set_named_property(env, out, "received", v);
	napi_create_double(env, r->dropped, &v);
	napi_set_named_property(env, out, "dropped", v);
	return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	receiver *r = unwrap(env, argc, argv[0]);
	if (!r) return throw_error(env, "not a receiver");
	poll_handle_close(&r->h); /* during on_readable, its loop checks closing after every datagram */
	return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
	napi_property_descriptor props[] = {
		{"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
		{"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
	};
	static const record_field layout[] = {
		{"headerBytes", UDP_RECORD_HEADER_BYTES},
		{"lengthOffset", UDP_RECORD_LENGTH_OFFSET},
		{"sourcePortOffset", UDP_RECORD_SOURCE_PORT_OFFSET},
		{"sourceFamilyOffset", UDP_RECORD_SOURCE_FAMILY_OFFSET},
		{"destinationFamilyOffset", UDP_RECORD_DESTINATION_FAMILY_OFFSET},
		{"sourceAddressOffset", UDP_RECORD_SOURCE_ADDRESS_OFFSET},
		{"destinationAddressOffset", UDP_RECORD_DESTINATION_ADDRESS_OFFSET},
		{"addressBytes", UDP_RECORD_ADDRESS_BYTES},
		{"alignBytes", RECORD_ALIGN_BYTES},
		{"maxDatagramBytes", MAX_DATAGRAM_BYTES},
		{"minBatchBytes", UDP_MIN_BATCH_BYTES},
	};
	if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
	    record_layout_export(env, exports, layout, sizeof layout / sizeof layout[0]) != 0)
		return NULL;
	return exports;
}

NAPI_MODULE(udp_batch, init)
