/*
 * nft-elements: the worker's fast path for what a grant needs, adding and deleting elements of
 * knockgate's own sets, sent to the kernel as one nf_tables netlink transaction that the worker
 * builds itself, without libnftables.
 *
 * Why: through libnftables a one-element JSON batch costs about 0.7 ms on the bench machine
 * (the JSON parse, and the ruleset cache it fetches from the kernel with netlink dumps before
 * every command); the transaction itself is a small part of that. A grant is on the path from the
 * last packet to an open port, so it takes this path; everything else (installing the ruleset,
 * listing it) still goes through libnftables.
 *
 * Request (after the worker's own length framing; see knockgate-nft.c):
 *     @elements inet TABLE\n
 *     A SET KEY KEY_END TIMEOUT_MS\n      add (no-op when an identical element exists)
 *     D SET KEY KEY_END\n                 delete
 *     ...
 * KEY and KEY_END are the element's key bytes in hex, exactly as the kernel stores them (each
 * field of a concatenation padded to 4 bytes); KEY_END is the end of the range (equal to KEY for
 * one address). Every line is applied in order in ONE transaction: the kernel applies all of it or
 * none of it, as with `nft -f`. TABLE and SET are nft names ([A-Za-z0-9_.-], at most 255 bytes).
 *
 * Result: 0 when the kernel acknowledged every message; otherwise -1 with the kernel's error
 * (e.g. "File exists") or the request's fault in `error`. Nothing is interpreted twice: a line
 * that does not parse fails the whole request before anything is sent.
 */

#include "nft-elements.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The longest key the kernel takes (NFT_DATA_VALUE_MAXLEN), and nft's name limit. */
#define MAX_KEY_BYTES 64u
#define MAX_NAME_BYTES 255u
/* Large enough for the biggest batch the daemon sends (MAX_FIREWALL_BATCH_BYTES of JSON encodes
 * to less than this), set with SO_SNDBUFFORCE since the default netlink send buffer is ~200 KiB. */
#define SEND_BUFFER_BYTES (8 * 1024 * 1024)
#define RECEIVE_BUFFER_BYTES (4 * 1024 * 1024)
/* The element list of one message is a nested attribute, whose length field has 16 bits: an IPv6
 * element with a timeout takes 88 bytes, so 512 of them stay far below 65,535 (end_nest checks). */
#define ELEMENTS_PER_MESSAGE 512u
/* The kernel answers within sendmsg(); this only bounds a wait that should never happen. */
#define ACK_WAIT_MS 2000

struct op {
	char kind; /* 'A' or 'D' */
	const char *set;
	size_t set_len;
	uint8_t key[MAX_KEY_BYTES];
	uint8_t key_end[MAX_KEY_BYTES];
	size_t key_len;
	uint64_t timeout_ms;
};

struct buf {
	uint8_t *data;
	size_t len, cap;
};

static int netlink_fd = -1;
static uint32_t next_seq;

static int fail(char *error, size_t size, const char *fmt, const char *detail) {
	snprintf(error, size, fmt, detail);
	return -1;
}

static int buf_reserve(struct buf *b, size_t more) {
	if (b->len + more <= b->cap) return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more) cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p) return -1;
	memset(p + b->cap, 0, cap - b->cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Appends one attribute (header + payload, padded to 4 bytes); returns its offset, or -1. */
static long put_attr(struct buf *b, uint16_t type, const void *payload, size_t len) {
	size_t total = NLA_ALIGN(NLA_HDRLEN + len);
	if (buf_reserve(b, total) != 0) return -1;
	long at = (long)b->len;
	struct nlattr *a = (struct nlattr *)(b->data + b->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len) memcpy(b->data + b->len + NLA_HDRLEN, payload, len);
	memset(b->data + b->len + NLA_HDRLEN + len, 0, total - NLA_HDRLEN - len);
	b->len += total;
	return at;
}

/* Closes a nested attribute; -1 if it grew past what nla_len (16 bits) can say. */
static int end_nest(struct buf *b, long at) {
	size_t len = b->len - (size_t)at;
	if (len > UINT16_MAX) return -1;
	struct nlattr *a = (struct nlattr *)(b->data + at);
	a->nla_len = (uint16_t)len;
	return 0;
}

/* Starts a netlink message; returns its offset, or -1. */
static long put_msg(struct buf *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id, uint32_t seq) {
	size_t total = NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	if (buf_reserve(b, total) != 0) return -1;
	long at = (long)b->len;
	struct nlmsghdr *h = (struct nlmsghdr *)(b->data + b->len);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	h->nlmsg_pid = 0;
	struct nfgenmsg *g = (struct nfgenmsg *)(b->data + b->len + NLMSG_ALIGN(sizeof(struct nlmsghdr)));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	b->len += total;
	return at;
}

static void end_msg(struct buf *b, long at) {
	struct nlmsghdr *h = (struct nlmsghdr *)(b->data + at);
	h->nlmsg_len = (uint32_t)(b->len - (size_t)at);
}

static int is_name(const char *s, size_t n) {
	if (n == 0 || n > MAX_NAME_BYTES) return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return 0;
	}
	return 1;
}

static int hex_value(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

/* Lower-case hex of 1..MAX_KEY_BYTES bytes into out; returns the byte count or 0. */
static size_t parse_hex(const char *s, size_t n, uint8_t *out) {
	if (n == 0 || n % 2 != 0 || n / 2 > MAX_KEY_BYTES) return 0;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0) return 0;
		out[i / 2] = (uint8_t)(hi * 16 + lo);
	}
	return n / 2;
}

/* Splits `line` (length n, no newline) into at most `max` space-separated fields. */
static int split(const char *line, size_t n, const char **field, size_t *flen, int max) {
	int count = 0;
	size_t i = 0;
	while (i < n) {
		if (line[i] == ' ' || count == max) return -1; /* one space between fields, no extra field */
		size_t start = i;
		while (i < n && line[i] != ' ') i++;
		field[count] = line + start;
		flen[count] = i - start;
		count++;
		if (i < n) {
			i++;
			if (i == n) return -1; /* trailing space */
		}
	}
	return count;
}

static int parse_op(const char *line, size_t n, struct op *op) {
	const char *f[5];
	size_t fl[5];
	int count = split(line, n, f, fl, 5);
	if (count < 4 || fl[0] != 1 || (f[0][0] != 'A' && f[0][0] != 'D')) return -1;
	op->kind = f[0][0];
	if ((op->kind == 'A' && count != 5) || (op->kind == 'D' && count != 4)) return -1;
	if (!is_name(f[1], fl[1])) return -1;
	op->set = f[1];
	op->set_len = fl[1];
	op->key_len = parse_hex(f[2], fl[2], op->key);
	if (op->key_len == 0 || parse_hex(f[3], fl[3], op->key_end) != op->key_len) return -1;
	op->timeout_ms = 0;
	if (op->kind == 'A') {
		if (fl[4] == 0 || fl[4] > 15) return -1; /* up to ~31,000 years: plenty, and no overflow */
		for (size_t i = 0; i < fl[4]; i++) {
			if (f[4][i] < '0' || f[4][i] > '9') return -1;
			op->timeout_ms = op->timeout_ms * 10 + (uint64_t)(f[4][i] - '0');
		}
		if (op->timeout_ms == 0) return -1;
	}
	return 0;
}

static int open_socket(char *error, size_t size) {
	if (netlink_fd >= 0) return 0;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) return fail(error, size, "cannot open a netfilter netlink socket: %s", strerror(errno));
	struct sockaddr_nl local = {.nl_family = AF_NETLINK};
	int one = 1, sndbuf = SEND_BUFFER_BYTES, rcvbuf = RECEIVE_BUFFER_BYTES;
	if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0 || setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) != 0 ||
	    (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0) ||
	    (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0)) {
		int e = errno;
		close(fd);
		return fail(error, size, "cannot set up the netfilter netlink socket: %s", strerror(e));
	}
	netlink_fd = fd;
	next_seq = (uint32_t)time(NULL);
	return 0;
}

/* Puts one element (key, key end, timeout for an add) as an NFTA_LIST_ELEM. */
static int put_element(struct buf *b, const struct op *op) {
	long elem = put_attr(b, NFTA_LIST_ELEM | NLA_F_NESTED, NULL, 0);
	long key = elem < 0 ? -1 : put_attr(b, NFTA_SET_ELEM_KEY | NLA_F_NESTED, NULL, 0);
	if (key < 0 || put_attr(b, NFTA_DATA_VALUE, op->key, op->key_len) < 0 || end_nest(b, key) != 0) return -1;
	long key_end = put_attr(b, NFTA_SET_ELEM_KEY_END | NLA_F_NESTED, NULL, 0);
	if (key_end < 0 || put_attr(b, NFTA_DATA_VALUE, op->key_end, op->key_len) < 0 || end_nest(b, key_end) != 0) return -1;
	if (op->kind == 'A') {
		uint64_t be = htobe64(op->timeout_ms);
		if (put_attr(b, NFTA_SET_ELEM_TIMEOUT, &be, sizeof be) < 0) return -1;
	}
	return end_nest(b, elem);
}

/*
 * The transaction: BATCH_BEGIN, one NEWSETELEM/DELSETELEM message per run of consecutive lines of
 * the same kind and set, at most ELEMENTS_PER_MESSAGE each (each asks for an acknowledgement),
 * BATCH_END. Returns the number of messages that ask for one, or -1.
 */
static int build(struct buf *b, const char *table, size_t table_len, const struct op *ops, size_t n, uint32_t first_seq) {
	char tname[MAX_NAME_BYTES + 1], sname[MAX_NAME_BYTES + 1];
	memcpy(tname, table, table_len);
	tname[table_len] = '\0';
	uint32_t seq = first_seq;
	long begin = put_msg(b, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, seq++);
	if (begin < 0) return -1;
	end_msg(b, begin);
	int messages = 0;
	for (size_t i = 0; i < n;) {
		const struct op *first = &ops[i];
		uint16_t type = (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | (first->kind == 'A' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM));
		uint16_t flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | (first->kind == 'A' ? NLM_F_CREATE : 0));
		long msg = put_msg(b, type, flags, NFPROTO_INET, 0, seq++);
		memcpy(sname, first->set, first->set_len);
		sname[first->set_len] = '\0';
		if (msg < 0 || put_attr(b, NFTA_SET_ELEM_LIST_TABLE, tname, table_len + 1) < 0 || put_attr(b, NFTA_SET_ELEM_LIST_SET, sname, first->set_len + 1) < 0) return -1;
		long list = put_attr(b, NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, NULL, 0);
		if (list < 0) return -1;
		size_t start = i;
		for (; i < n && i - start < ELEMENTS_PER_MESSAGE && ops[i].kind == first->kind && ops[i].set_len == first->set_len && memcmp(ops[i].set, first->set, first->set_len) == 0; i++) {
			if (put_element(b, &ops[i]) != 0) return -1;
		}
		if (end_nest(b, list) != 0) return -1;
		end_msg(b, msg);
		messages++;
	}
	long end = put_msg(b, NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, seq);
	if (end < 0) return -1;
	end_msg(b, end);
	return messages;
}

/* Reads the acknowledgements of messages first_seq+1 .. first_seq+expected; 0 if all say 0. */
static int collect_acks(uint32_t first_seq, int expected, char *error, size_t size) {
	static uint8_t in[64 * 1024];
	int acked = 0, failed = 0;
	while (acked < expected) {
		ssize_t r = recv(netlink_fd, in, sizeof in, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (failed) break; /* an aborted batch may not acknowledge the rest */
			struct pollfd p = {.fd = netlink_fd, .events = POLLIN};
			int ready = poll(&p, 1, ACK_WAIT_MS);
			if (ready <= 0) return failed ? -1 : fail(error, size, "%s", "the kernel did not acknowledge every message of the batch");
			continue;
		}
		if (r < 0) return fail(error, size, "cannot read the kernel's answer: %s", strerror(errno));
		for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, (size_t)r); h = NLMSG_NEXT(h, r)) {
			if (h->nlmsg_seq <= first_seq || h->nlmsg_seq > first_seq + (uint32_t)expected) continue; /* not ours */
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			acked++;
			if (e->error != 0 && !failed) {
				failed = 1;
				snprintf(error, size, "%s", strerror(-e->error));
			}
		}
	}
	/* Anything left over belongs to this batch: drop it so the next one starts clean. */
	while (recv(netlink_fd, in, sizeof in, MSG_DONTWAIT) > 0) {
	}
	return failed ? -1 : 0;
}

int nft_elements_apply(const char *request, size_t length, char *error, size_t size) {
	static const char prefix[] = "@elements inet ";
	size_t plen = sizeof prefix - 1;
	const char *nl = memchr(request, '\n', length);
	if (length < plen || memcmp(request, prefix, plen) != 0 || nl == NULL) return fail(error, size, "%s", "malformed element request header");
	const char *table = request + plen;
	size_t table_len = (size_t)(nl - table);
	if (!is_name(table, table_len)) return fail(error, size, "%s", "malformed table name in element request");

	size_t cap = 0, n = 0;
	for (const char *p = nl + 1; p < request + length; p++) cap += *p == '\n';
	if (cap == 0) return fail(error, size, "%s", "element request without elements");
	struct op *ops = calloc(cap, sizeof *ops);
	if (!ops) return fail(error, size, "%s", "out of memory");
	for (const char *line = nl + 1; line < request + length;) {
		const char *end = memchr(line, '\n', (size_t)(request + length - line));
		if (end == NULL || parse_op(line, (size_t)(end - line), &ops[n]) != 0) {
			free(ops);
			return fail(error, size, "%s", "malformed element line");
		}
		n++;
		line = end + 1;
	}

	int rc = open_socket(error, size);
	struct buf b = {0};
	uint32_t first = next_seq;
	int messages = rc == 0 ? build(&b, table, table_len, ops, n, first) : -1;
	free(ops);
	if (rc == 0 && messages < 0) rc = fail(error, size, "%s", "cannot build the batch (out of memory, or an attribute over 64 KiB)");
	if (rc == 0) {
		next_seq = first + (uint32_t)messages + 2;
		ssize_t sent;
		do sent = send(netlink_fd, b.data, b.len, 0);
		while (sent < 0 && errno == EINTR);
		if (sent < 0 || (size_t)sent != b.len) rc = fail(error, size, "cannot send the batch to the kernel: %s", sent < 0 ? strerror(errno) : "short send");
		else rc = collect_acks(first, messages, error, size);
	}
	free(b.data);
	return rc;
}
