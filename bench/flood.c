/*
 * flood — the knockgate benchmark's bounded, rate-controlled packet sender.
 *
 * Build:  cc -O2 -Wall -Wextra -o dist/bench/flood bench/flood.c      (no extra libraries)
 *
 * Contract
 *   flood --ifname IF --src-mac MAC --dst-mac MAC --dst IPV4|IPV6
 *         --spoof CIDR                 IPv4 a.b.c.d/len or IPv6 x:y::/len, the family of --dst
 *                                      (not needed in mode frames)
 *         --mode syn|udp-random|udp-native|udp-fwknop|frames
 *         [--ports P1,P2,...]          destination ports, one picked uniformly per packet;
 *                                      default: uniformly 1..65535
 *         [--frames FILE]              mode frames only: records of (u16 big-endian length, that many
 *                                      bytes of a whole Ethernet frame), sent once each, in order,
 *                                      unmodified
 *         --rate PPS --count N --seconds S     stop at whichever of count/seconds comes first
 *         [--seed N]                   PRNG seed, 0..2^53-1 (default: from the clock)
 *         [--write FILE]               dry run: no socket, nothing sent; the frames are written to FILE
 *                                      (created 0600, must not exist) as records in the --frames format,
 *                                      as fast as they are built (no pacing; count and seconds still
 *                                      bound it); --ifname is then not needed
 *
 *   - Sends whole Ethernet + IPv4 or IPv6 frames it builds itself on an AF_PACKET/SOCK_RAW socket on
 *     IF, with PACKET_QDISC_BYPASS, in batches of up to 64 per sendmmsg(2). Nothing is received.
 *   - Every packet (modes other than frames) has a fresh random source address drawn uniformly from
 *     --spoof, a fresh random source port, IP ID (IPv4) or flow label (IPv6) and (syn) sequence number.
 *     IPv4: Ethertype 0x0800, 20-byte header, DF, TTL 64, correct header checksum. IPv6: Ethertype
 *     0x86DD, 40-byte header, no extension headers, hop limit 64. The TCP/UDP checksum is correct
 *     (over the IPv4 or IPv6 pseudo-header; a UDP checksum that computes to 0 is sent as 0xffff).
 *       syn         TCP SYN with an MSS option, random window
 *       udp-random  random payload bytes, length uniform in 16..512
 *       udp-native  random payload bytes, length uniform in 145..512 (MIN/MAX_SPA_BYTES, knockgate SPA)
 *       udp-fwknop  random unpadded base64 characters, length uniform in 140..399 (fwknop SPA, AES)
 *   - Pacing: a token bucket against CLOCK_MONOTONIC; credit is capped at max(2 batches, 25 ms of rate),
 *     so a stall is not followed by an unbounded burst. Bursts are at most ~0.5 ms worth of packets.
 *   - Hard limits, checked before anything is sent: rate 1..1,000,000; count 1..20,000,000;
 *     seconds in (0, 600]; --dst and --spoof of the same family. Violations and any other usage
 *     error: message on stderr, exit 64.
 *   - ENOBUFS/EAGAIN from sendmmsg: counted in "errors", short back-off (50 µs), the same packets
 *     are retried. SIGINT/SIGTERM: stops early (normal exit).
 *   - At the end, exactly one line on stdout:
 *       {"sent":N,"errors":E,"seconds":X,"pps":Y,"seed":S}
 *     sent = packets the kernel accepted (dry run: frames written); seconds = from the first send to
 *     the end; pps = sent/seconds.
 *     Exit 0; exit 1 (JSON still printed) if sending failed with another error; exit 1 without JSON if
 *     setup (socket, interface) failed.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 64
#define MAX_RATE 1000000ULL
#define MAX_COUNT 20000000ULL
#define MAX_SECONDS 600.0
#define MAX_SEED ((1ULL << 53) - 1)
#define MAX_BATCH 64
#define SLOT_BYTES 1536
#define MAX_PORTS 65536
#define MAX_FRAMES_FILE_BYTES (1ULL << 30)
#define MIN_FRAME_BYTES 14

enum mode { M_SYN, M_UDP_RANDOM, M_UDP_NATIVE, M_UDP_FWKNOP, M_FRAMES };

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("flood: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  fputs("usage: flood --ifname IF --src-mac MAC --dst-mac MAC --dst IPV4|IPV6 --spoof CIDR\n"
        "             --mode syn|udp-random|udp-native|udp-fwknop|frames [--ports P1,P2,...]\n"
        "             [--frames FILE] --rate PPS --count N --seconds S [--seed N] [--write FILE]\n", stderr);
  va_end(ap);
  exit(EXIT_USAGE);
}

/* ---- PRNG: splitmix64, 8 random bytes per call ---- */
static uint64_t rng_state;
static inline uint64_t rnd64(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* Uniform in [0, n) (Lemire's multiply-shift; bias < n/2^64, negligible). */
static inline uint32_t rnd_below(uint32_t n) {
  return (uint32_t)(((unsigned __int128)rnd64() * n) >> 64);
}
static inline uint32_t rnd_between(uint32_t lo, uint32_t hi) { return lo + rnd_below(hi - lo + 1); }

/* ---- parsing ---- */
static uint64_t parse_u64(const char *opt, const char *s) {
  if (s == NULL || *s == '\0' || *s == '-' || *s == '+') usage_fail("%s: not a non-negative integer: '%s'", opt, s ? s : "");
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') usage_fail("%s: not a non-negative integer: '%s'", opt, s);
  return v;
}

static void parse_mac(const char *opt, const char *s, uint8_t out[6]) {
  unsigned int b[6];
  char tail;
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 || strlen(s) != 17)
    usage_fail("%s: not a MAC address (aa:bb:cc:dd:ee:ff): '%s'", opt, s);
  for (int i = 0; i < 6; i++) out[i] = (uint8_t)b[i];
}

/* An address of either family; for IPv4 only v4 is used. */
struct addr {
  int v6;
  uint32_t v4;
  uint8_t b6[16];
};

static void parse_addr(const char *opt, const char *s, struct addr *out) {
  memset(out, 0, sizeof *out);
  struct in_addr a4;
  if (inet_pton(AF_INET, s, &a4) == 1) {
    out->v4 = ntohl(a4.s_addr);
    return;
  }
  if (inet_pton(AF_INET6, s, out->b6) == 1) {
    out->v6 = 1;
    return;
  }
  usage_fail("%s: not an IPv4 or IPv6 address: '%s'", opt, s);
}

/* A prefix: base (host bits cleared) and the host-bit mask, in the address's own family. */
struct prefix {
  struct addr base;
  uint32_t hostmask4;
  uint8_t hostmask6[16];
};

static void parse_cidr(const char *s, struct prefix *p) {
  char buf[64];
  const char *slash = strchr(s, '/');
  memset(p, 0, sizeof *p);
  if (slash == NULL || (size_t)(slash - s) >= sizeof buf) usage_fail("--spoof: not a prefix (a.b.c.d/len or x:y::/len): '%s'", s);
  memcpy(buf, s, (size_t)(slash - s));
  buf[slash - s] = '\0';
  parse_addr("--spoof", buf, &p->base);
  uint64_t len = parse_u64("--spoof prefix length", slash + 1);
  if (!p->base.v6) {
    if (len > 32) usage_fail("--spoof: IPv4 prefix length must be 0..32: '%s'", s);
    uint32_t hm = len == 0 ? 0xffffffffU : (len == 32 ? 0U : (0xffffffffU >> len));
    p->hostmask4 = hm;
    p->base.v4 &= ~hm;
  } else {
    if (len > 128) usage_fail("--spoof: IPv6 prefix length must be 0..128: '%s'", s);
    for (int i = 0; i < 16; i++) {
      int bits = (int)len - 8 * i; /* prefix bits in this byte */
      uint8_t keep = bits >= 8 ? 0xff : (bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits)));
      p->hostmask6[i] = (uint8_t)~keep;
      p->base.b6[i] &= keep;
    }
  }
}

static uint32_t parse_ports(const char *s, uint16_t *ports) {
  uint32_t n = 0;
  const char *p = s;
  if (*s == '\0') usage_fail("--ports: empty list");
  while (1) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char buf[16];
    if (len == 0 || len >= sizeof buf) usage_fail("--ports: bad entry in '%s'", s);
    memcpy(buf, p, len);
    buf[len] = '\0';
    uint64_t v = parse_u64("--ports", buf);
    if (v < 1 || v > 65535) usage_fail("--ports: port out of range 1..65535: %s", buf);
    if (n >= MAX_PORTS) usage_fail("--ports: more than %d entries", MAX_PORTS);
    ports[n++] = (uint16_t)v;
    if (!comma) break;
    p = comma + 1;
  }
  return n;
}

static double parse_seconds(const char *s) {
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno != 0 || *s == '\0' || *end != '\0' || !(v > 0.0)) usage_fail("--seconds: not a positive number: '%s'", s);
  if (v > MAX_SECONDS) usage_fail("--seconds: %s exceeds the limit of %.0f", s, MAX_SECONDS);
  return v;
}

/* ---- checksums ---- */
static inline uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len) {
  while (len >= 4) {
    sum += ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    sum += ((uint32_t)p[0] << 8) | p[1];
    p += 2;
    len -= 2;
  }
  if (len) sum += (uint32_t)p[0] << 8;
  return sum;
}
static inline uint16_t csum_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

/* ---- frame building ---- */
struct gen {
  enum mode mode;
  uint8_t src_mac[6], dst_mac[6];
  struct addr dst;
  struct prefix spoof;
  uint16_t *ports;
  uint32_t nports; /* 0: any port 1..65535 */
};

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline void fill_random(uint8_t *p, size_t n) {
  while (n >= 8) {
    uint64_t r = rnd64();
    memcpy(p, &r, 8);
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t r = rnd64();
    memcpy(p, &r, n);
  }
}
static inline void fill_base64(uint8_t *p, size_t n) {
  while (n) {
    uint64_t r = rnd64(); /* 10 characters of 6 bits each */
    for (int i = 0; i < 10 && n; i++, n--) {
      *p++ = (uint8_t)B64[r & 63];
      r >>= 6;
    }
  }
}

/* Builds one frame into buf (SLOT_BYTES); returns its length. */
static size_t build_frame(const struct gen *g, uint8_t *buf) {
  const int v6 = g->dst.v6;
  const size_t iphl = v6 ? 40 : 20;
  uint8_t *eth = buf, *ip = buf + 14, *l4 = buf + 14 + iphl;
  memcpy(eth, g->dst_mac, 6);
  memcpy(eth + 6, g->src_mac, 6);
  put16(eth + 12, v6 ? 0x86DD : 0x0800);

  uint32_t src = 0;
  uint8_t src6[16];
  if (v6) {
    uint64_t r[2] = { rnd64(), rnd64() };
    uint8_t rb[16];
    memcpy(rb, r, 16);
    for (int i = 0; i < 16; i++) src6[i] = (uint8_t)(g->spoof.base.b6[i] | (rb[i] & g->spoof.hostmask6[i]));
  } else {
    src = g->spoof.base.v4 | ((uint32_t)rnd64() & g->spoof.hostmask4);
  }
  uint16_t dport = g->nports ? g->ports[rnd_below(g->nports)] : (uint16_t)rnd_between(1, 65535);
  uint16_t sport = (uint16_t)rnd_between(1024, 65535);
  size_t l4len;
  uint8_t proto;

  if (g->mode == M_SYN) {
    proto = 6;
    l4len = 24;
    put16(l4, sport);
    put16(l4 + 2, dport);
    put32(l4 + 4, (uint32_t)rnd64()); /* seq */
    put32(l4 + 8, 0);                 /* ack */
    l4[12] = 6 << 4;                  /* data offset 6 words */
    l4[13] = 0x02;                    /* SYN */
    put16(l4 + 14, (uint16_t)rnd_between(1024, 65535)); /* window */
    put16(l4 + 16, 0);                /* checksum, below */
    put16(l4 + 18, 0);                /* urgent */
    l4[20] = 2; l4[21] = 4; put16(l4 + 22, 1460); /* MSS option */
  } else {
    size_t plen;
    uint8_t *payload = l4 + 8;
    switch (g->mode) {
      case M_UDP_RANDOM: plen = rnd_between(16, 512); fill_random(payload, plen); break;
      case M_UDP_NATIVE: plen = rnd_between(145, 512); fill_random(payload, plen); break;
      default: plen = rnd_between(140, 399); fill_base64(payload, plen); break;
    }
    proto = 17;
    l4len = 8 + plen;
    put16(l4, sport);
    put16(l4 + 2, dport);
    put16(l4 + 4, (uint16_t)l4len);
    put16(l4 + 6, 0);
  }

  uint64_t sum;
  if (v6) {
    /* IPv6 header: version 6, traffic class 0, random flow label; no extension headers */
    put32(ip, (6U << 28) | ((uint32_t)rnd64() & 0xfffffU));
    put16(ip + 4, (uint16_t)l4len); /* payload length */
    ip[6] = proto;                  /* next header */
    ip[7] = 64;                     /* hop limit */
    memcpy(ip + 8, src6, 16);
    memcpy(ip + 24, g->dst.b6, 16);
    /* pseudo-header: source, destination, upper-layer length (32 bits), next header */
    sum = csum_add(0, ip + 8, 32) + (uint32_t)l4len + proto;
  } else {
    /* IPv4 header */
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + l4len));
    put16(ip + 4, (uint16_t)rnd64()); /* ID */
    put16(ip + 6, 0x4000);            /* DF */
    ip[8] = 64;
    ip[9] = proto;
    put16(ip + 10, 0);
    put32(ip + 12, src);
    put32(ip + 16, g->dst.v4);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    sum = (src >> 16) + (src & 0xffff) + (g->dst.v4 >> 16) + (g->dst.v4 & 0xffff) + proto + l4len;
  }

  /* TCP/UDP checksum over the pseudo-header and the segment */
  uint16_t c = csum_fold(csum_add(sum, l4, l4len));
  if (proto == 17) {
    if (c == 0) c = 0xffff; /* 0 means "no checksum" in UDP (and is invalid in IPv6) */
    put16(l4 + 6, c);
  } else {
    put16(l4 + 16, c);
  }

  size_t len = 14 + iphl + l4len;
  if (len < 60) { /* Ethernet minimum, as a real NIC pads */
    memset(buf + len, 0, 60 - len);
    len = 60;
  }
  return len;
}

/* ---- frames file ---- */
struct frames {
  uint8_t *data;
  uint32_t *off;  /* offset of each frame's bytes */
  uint16_t *len;
  uint64_t n;
};

static void load_frames(const char *path, struct frames *f, uint64_t max_records) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) usage_fail("--frames: cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) usage_fail("--frames: '%s' is not a regular file", path);
  if ((uint64_t)st.st_size > MAX_FRAMES_FILE_BYTES) usage_fail("--frames: '%s' is larger than %llu bytes", path, (unsigned long long)MAX_FRAMES_FILE_BYTES);
  size_t size = (size_t)st.st_size;
  f->data = malloc(size ? size : 1);
  if (!f->data) usage_fail("--frames: out of memory");
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, f->data + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) usage_fail("--frames: reading '%s': %s", path, r < 0 ? strerror(errno) : "short read");
    got += (size_t)r;
  }
  close(fd);
  /* First pass: count and validate. */
  uint64_t n = 0;
  size_t p = 0;
  while (p < size) {
    if (size - p < 2) usage_fail("--frames: truncated record header at byte %zu", p);
    size_t l = ((size_t)f->data[p] << 8) | f->data[p + 1];
    if (l < MIN_FRAME_BYTES) usage_fail("--frames: record %llu at byte %zu is %zu bytes, shorter than an Ethernet header", (unsigned long long)n, p, l);
    if (size - p - 2 < l) usage_fail("--frames: record %llu at byte %zu is truncated", (unsigned long long)n, p);
    p += 2 + l;
    n++;
  }
  if (n == 0) usage_fail("--frames: '%s' holds no records", path);
  if (n > max_records) n = max_records; /* only the first --count are ever sent */
  f->off = malloc(n * sizeof *f->off);
  f->len = malloc(n * sizeof *f->len);
  if (!f->off || !f->len) usage_fail("--frames: out of memory");
  p = 0;
  for (uint64_t i = 0; i < n; i++) {
    size_t l = ((size_t)f->data[p] << 8) | f->data[p + 1];
    f->off[i] = (uint32_t)(p + 2);
    f->len[i] = (uint16_t)l;
    p += 2 + l;
  }
  f->n = n;
}

/* ---- dry run: records of (u16 big-endian length, frame) to a file ---- */
static int write_records(int wfd, const struct iovec *v, unsigned int n) {
  static uint8_t out[MAX_BATCH * (SLOT_BYTES + 2)];
  size_t len = 0;
  for (unsigned int i = 0; i < n; i++) {
    put16(out + len, (uint16_t)v[i].iov_len);
    memcpy(out + len + 2, v[i].iov_base, v[i].iov_len);
    len += 2 + v[i].iov_len;
  }
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(wfd, out + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    done += (size_t)w;
  }
  return (int)n;
}

/* ---- time ---- */
static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static void sleep_until(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  if (ts.tv_nsec < 0) ts.tv_nsec = 0;
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: caller re-checks */
}
static void sleep_for(long ns) {
  struct timespec ts = { 0, ns };
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  const char *ifname = NULL, *src_mac = NULL, *dst_mac = NULL, *dst = NULL, *spoof = NULL, *mode_s = NULL;
  const char *ports_s = NULL, *frames_path = NULL, *rate_s = NULL, *count_s = NULL, *seconds_s = NULL, *seed_s = NULL;
  const char *write_path = NULL;
  static const struct option opts[] = {
    { "ifname", required_argument, 0, 'i' }, { "src-mac", required_argument, 0, 'S' },
    { "dst-mac", required_argument, 0, 'D' }, { "dst", required_argument, 0, 'd' },
    { "spoof", required_argument, 0, 's' }, { "mode", required_argument, 0, 'm' },
    { "ports", required_argument, 0, 'p' }, { "frames", required_argument, 0, 'f' },
    { "rate", required_argument, 0, 'r' }, { "count", required_argument, 0, 'c' },
    { "seconds", required_argument, 0, 't' }, { "seed", required_argument, 0, 'e' },
    { "write", required_argument, 0, 'w' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
  };
  opterr = 0;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'i': ifname = optarg; break;
      case 'S': src_mac = optarg; break;
      case 'D': dst_mac = optarg; break;
      case 'd': dst = optarg; break;
      case 's': spoof = optarg; break;
      case 'm': mode_s = optarg; break;
      case 'p': ports_s = optarg; break;
      case 'f': frames_path = optarg; break;
      case 'r': rate_s = optarg; break;
      case 'c': count_s = optarg; break;
      case 't': seconds_s = optarg; break;
      case 'e': seed_s = optarg; break;
      case 'w': write_path = optarg; break;
      case 'h': usage_fail("help");
      default: usage_fail("unknown option or missing value: '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) usage_fail("unexpected argument: '%s'", argv[optind]);

  struct gen g;
  memset(&g, 0, sizeof g);
  if (!mode_s) usage_fail("--mode is required");
  if (!strcmp(mode_s, "syn")) g.mode = M_SYN;
  else if (!strcmp(mode_s, "udp-random")) g.mode = M_UDP_RANDOM;
  else if (!strcmp(mode_s, "udp-native")) g.mode = M_UDP_NATIVE;
  else if (!strcmp(mode_s, "udp-fwknop")) g.mode = M_UDP_FWKNOP;
  else if (!strcmp(mode_s, "frames")) g.mode = M_FRAMES;
  else usage_fail("--mode: unknown mode '%s'", mode_s);

  if (!ifname && !write_path) usage_fail("--ifname is required (unless --write)");
  if (ifname && strlen(ifname) >= IFNAMSIZ) usage_fail("--ifname: too long: '%s'", ifname);
  if (!src_mac) usage_fail("--src-mac is required");
  if (!dst_mac) usage_fail("--dst-mac is required");
  if (!dst) usage_fail("--dst is required");
  if (!rate_s) usage_fail("--rate is required");
  if (!count_s) usage_fail("--count is required");
  if (!seconds_s) usage_fail("--seconds is required");
  parse_mac("--src-mac", src_mac, g.src_mac);
  parse_mac("--dst-mac", dst_mac, g.dst_mac);
  parse_addr("--dst", dst, &g.dst);

  uint64_t rate = parse_u64("--rate", rate_s);
  if (rate < 1) usage_fail("--rate: must be at least 1");
  if (rate > MAX_RATE) usage_fail("--rate: %llu exceeds the limit of %llu packets per second", (unsigned long long)rate, MAX_RATE);
  uint64_t count = parse_u64("--count", count_s);
  if (count < 1) usage_fail("--count: must be at least 1");
  if (count > MAX_COUNT) usage_fail("--count: %llu exceeds the limit of %llu packets", (unsigned long long)count, MAX_COUNT);
  double seconds = parse_seconds(seconds_s);

  uint64_t seed;
  if (seed_s) {
    seed = parse_u64("--seed", seed_s);
    if (seed > MAX_SEED) usage_fail("--seed: must be at most 2^53-1 (%llu)", MAX_SEED);
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    s ^= (uint64_t)getpid() << 32;
    rng_state = s;
    seed = rnd64() & MAX_SEED;
  }
  rng_state = seed;

  static uint16_t ports[MAX_PORTS];
  struct frames fr;
  memset(&fr, 0, sizeof fr);
  if (g.mode == M_FRAMES) {
    if (!frames_path) usage_fail("--frames FILE is required with --mode frames");
    if (ports_s) usage_fail("--ports does not apply to --mode frames");
    load_frames(frames_path, &fr, count);
    if (count > fr.n) count = fr.n;
  } else {
    if (frames_path) usage_fail("--frames applies only to --mode frames");
    if (!spoof) usage_fail("--spoof is required with --mode %s", mode_s);
    parse_cidr(spoof, &g.spoof);
    if (g.spoof.base.v6 != g.dst.v6) usage_fail("--spoof %s and --dst %s are not of the same address family", spoof, dst);
    if (ports_s) g.nports = parse_ports(ports_s, ports);
    g.ports = ports;
  }

  /* ---- socket (or, dry run, the output file) ---- */
  const int dry = write_path != NULL;
  unsigned int ifindex = 0;
  int fd;
  if (dry) {
    fd = open(write_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      fprintf(stderr, "flood: --write: cannot create '%s': %s\n", write_path, strerror(errno));
      return 1;
    }
  } else {
    ifindex = if_nametoindex(ifname);
    if (ifindex == 0) {
      fprintf(stderr, "flood: no interface '%s': %s\n", ifname, strerror(errno));
      return 1;
    }
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: this socket receives nothing */
    if (fd < 0) {
      fprintf(stderr, "flood: socket(AF_PACKET, SOCK_RAW): %s (needs CAP_NET_RAW)\n", strerror(errno));
      return 1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) {
      fprintf(stderr, "flood: PACKET_QDISC_BYPASS: %s\n", strerror(errno));
      return 1;
    }
    int sndbuf = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
      (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* precise wake-ups for pacing */
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: sleeps end early */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  static uint8_t slots[MAX_BATCH][SLOT_BYTES];
  static struct sockaddr_ll addrs[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  static struct mmsghdr msgs[MAX_BATCH];
  for (int i = 0; i < MAX_BATCH; i++) {
    addrs[i].sll_family = AF_PACKET;
    addrs[i].sll_ifindex = (int)ifindex;
    addrs[i].sll_protocol = htons(g.dst.v6 ? ETH_P_IPV6 : ETH_P_IP);
    addrs[i].sll_halen = 6;
    memcpy(addrs[i].sll_addr, g.dst_mac, 6);
    iov[i].iov_base = slots[i];
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  /* Batch: ~0.5 ms of packets, 1..64. Bucket depth: max(2 batches, 25 ms of rate): a sender that
   * loses the CPU for up to 25 ms (2 cores shared with the daemons under test) catches up. */
  uint32_t batch = (uint32_t)(rate / 2000);
  if (batch < 1) batch = 1;
  if (batch > MAX_BATCH) batch = MAX_BATCH;
  double depth = (double)rate / 40.0;
  if (depth < 2.0 * batch) depth = 2.0 * batch;

  fprintf(stderr, "flood: mode %s %s %s, rate %llu pps, count %llu, seconds %g, batch %u, seed %llu\n", mode_s, dry ? "written to" : "on", dry ? write_path : ifname,
          (unsigned long long)rate, (unsigned long long)count, seconds, batch, (unsigned long long)seed);

  uint64_t sent = 0, errors = 0;
  int fatal = 0;
  double start = now_s();
  double deadline = start + seconds;
  double last = start;
  double tokens = batch; /* the first batch goes at once */
  uint32_t pending = 0, pending_done = 0; /* built frames not yet accepted by the kernel */

  while (sent < count && !stop_requested) {
    double t = now_s();
    if (t >= deadline) break;
    tokens += (t - last) * (double)rate;
    last = t;
    if (tokens > depth) tokens = depth;

    if (pending == 0) {
      uint64_t left = count - sent;
      uint32_t want = left < batch ? (uint32_t)left : batch;
      if (dry) tokens = want; /* a dry run is not paced */
      if (tokens < (double)want) {
        double wake = t + ((double)want - tokens) / (double)rate;
        sleep_until(wake < deadline ? wake : deadline);
        continue;
      }
      for (uint32_t i = 0; i < want; i++) {
        if (g.mode == M_FRAMES) {
          uint64_t k = sent + i;
          const uint8_t *fb = fr.data + fr.off[k];
          iov[i].iov_base = (void *)fb;
          iov[i].iov_len = fr.len[k];
          addrs[i].sll_protocol = htons((uint16_t)(((uint16_t)fb[12] << 8) | fb[13]));
        } else {
          iov[i].iov_len = build_frame(&g, slots[i]);
        }
      }
      pending = want;
      pending_done = 0;
    }

    int r = dry ? write_records(fd, iov + pending_done, pending - pending_done) : sendmmsg(fd, msgs + pending_done, pending - pending_done, 0);
    if (r > 0) {
      pending_done += (uint32_t)r;
      sent += (uint64_t)r;
      tokens -= r;
      if (pending_done == pending) pending = 0;
    } else if (r < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EWOULDBLOCK)) {
      errors++;
      sleep_for(50000);
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      fprintf(stderr, "flood: %s on %s: %s\n", dry ? "write" : "sendmmsg", dry ? write_path : ifname, r < 0 ? strerror(errno) : "sent nothing");
      errors++;
      fatal = 1;
      break;
    }
  }

  double elapsed = now_s() - start;
  if (elapsed <= 0) elapsed = 1e-9;
  printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.3f,\"pps\":%.1f,\"seed\":%llu}\n", (unsigned long long)sent,
         (unsigned long long)errors, elapsed, (double)sent / elapsed, (unsigned long long)seed);
  fflush(stdout);
  close(fd);
  return fatal ? 1 : 0;
}
