/* SPDX-License-Identifier: MIT */
/*
 * sip_load: a small closed-loop SIP load generator for one node's benchmark (issue 3). It keeps a
 * window of requests outstanding over several UDP sockets (so SO_REUSEPORT spreads them over the
 * node's workers), sends and receives in bursts with sendmmsg/recvmmsg, matches each answer to
 * its request by the Via branch, and reports the rate, the status codes and latency percentiles.
 * The full generator with open-loop load, retransmissions and HDR histograms is locus-bench
 * (issue 5); this one measures the node's ceiling.
 *
 * Workloads (AOR i is sip:u<i>@example.com, fixed by --aors and --seed):
 *   register  one REGISTER per AOR (new bindings), Call-ID per AOR, CSeq 1
 *   refresh   REGISTERs of already registered AORs, same Call-ID, rising CSeq
 *   invite    INVITEs to random registered AORs; a 302 is the expected answer
 *
 * Usage: sip_load --target ADDR:PORT --mode register|refresh|invite [--aors N] [--count N]
 *                 [--window W] [--sockets S] [--seed X] [--cseq C] [--timeout-ms T]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 64
#define BURST 32
#define MSG_CAP 1024

struct slot {
	uint64_t sent_ns; /* 0: free */
	uint64_t idx;	  /* request number */
};

struct opts {
	struct sockaddr_in target;
	const char *mode;
	uint64_t aors, count, seed;
	unsigned window, sockets, cseq, timeout_ms;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static int build(const struct opts *o, uint64_t idx, unsigned slot, int port, char *buf)
{
	uint64_t aor = !strcmp(o->mode, "invite") ? mix(idx ^ o->seed) % o->aors : idx % o->aors;
	if (!strcmp(o->mode, "invite")) {
		return snprintf(buf, MSG_CAP,
				"INVITE sip:u%llu@example.com SIP/2.0\r\n"
				"Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%u-%llu\r\n"
				"Max-Forwards: 70\r\n"
				"From: <sip:caller@example.com>;tag=%llx\r\n"
				"To: <sip:u%llu@example.com>\r\n"
				"Call-ID: inv-%llu@bench\r\n"
				"CSeq: 1 INVITE\r\n"
				"Contact: <sip:caller@127.0.0.1:%d>\r\n"
				"Content-Length: 0\r\n\r\n",
				(unsigned long long)aor, port, slot, (unsigned long long)idx,
				(unsigned long long)idx, (unsigned long long)aor,
				(unsigned long long)idx, port);
	}
	unsigned cseq = o->cseq + (unsigned)(idx / o->aors);
	return snprintf(buf, MSG_CAP,
			"REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%u-%llu\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:u%llu@example.com>;tag=%llx\r\n"
			"To: <sip:u%llu@example.com>\r\n"
			"Call-ID: reg-%llu-%llx@bench\r\n"
			"CSeq: %u REGISTER\r\n"
			"Contact: <sip:u%llu@192.0.2.%llu:5060;transport=udp>\r\n"
			"Expires: 3600\r\n"
			"User-Agent: sip_load\r\n"
			"Content-Length: 0\r\n\r\n",
			port, slot, (unsigned long long)idx, (unsigned long long)aor,
			(unsigned long long)idx, (unsigned long long)aor, (unsigned long long)aor,
			(unsigned long long)o->seed, cseq, (unsigned long long)aor,
			(unsigned long long)(aor % 250 + 1));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: sip_load --target ADDR:PORT --mode register|refresh|invite "
			"[--aors N] [--count N] [--window W] [--sockets S] [--seed X] [--cseq C] "
			"[--timeout-ms T]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.aors = 100000,
			   .window = 256,
			   .sockets = 8,
			   .seed = 1,
			   .cseq = 1,
			   .timeout_ms = 1000};
	const char *target = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *f = argv[i], *v = argv[i + 1];
		if (!strcmp(f, "--target")) {
			target = v;
		} else if (!strcmp(f, "--mode")) {
			o->mode = v;
		} else if (!strcmp(f, "--aors")) {
			o->aors = strtoull(v, NULL, 10);
		} else if (!strcmp(f, "--count")) {
			o->count = strtoull(v, NULL, 10);
		} else if (!strcmp(f, "--window")) {
			o->window = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(f, "--sockets")) {
			o->sockets = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(f, "--seed")) {
			o->seed = strtoull(v, NULL, 0);
		} else if (!strcmp(f, "--cseq")) {
			o->cseq = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(f, "--timeout-ms")) {
			o->timeout_ms = (unsigned)strtoul(v, NULL, 10);
		} else {
			usage();
		}
	}
	char host[64];
	const char *colon = target ? strrchr(target, ':') : NULL;
	if (!colon || !o->mode || o->aors == 0 || o->window == 0 || o->sockets == 0 ||
	    o->sockets > MAX_SOCKETS || (size_t)(colon - target) >= sizeof(host) ||
	    (strcmp(o->mode, "register") && strcmp(o->mode, "refresh") &&
	     strcmp(o->mode, "invite"))) {
		usage();
	}
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	o->target.sin_family = AF_INET;
	o->target.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &o->target.sin_addr) != 1) {
		usage();
	}
	if (o->count == 0) {
		o->count = o->aors;
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	int fd[MAX_SOCKETS], port[MAX_SOCKETS];
	unsigned per = (o.window + o.sockets - 1) / o.sockets;
	struct slot *slots = calloc((size_t)o.sockets * per, sizeof(*slots));
	uint64_t *lat = calloc(o.count, sizeof(*lat));
	if (!slots || !lat) {
		return 1;
	}
	for (unsigned s = 0; s < o.sockets; s++) {
		fd[s] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in me = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(0x7f000001)};
		int big = 4 << 20;
		setsockopt(fd[s], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		if (bind(fd[s], (struct sockaddr *)&me, sizeof(me)) != 0 ||
		    connect(fd[s], (struct sockaddr *)&o.target, sizeof(o.target)) != 0) {
			perror("socket");
			return 1;
		}
		socklen_t len = sizeof(me);
		getsockname(fd[s], (struct sockaddr *)&me, &len);
		port[s] = ntohs(me.sin_port);
	}
	uint64_t next = 0, answered = 0, lost = 0, nlat = 0, codes[7] = {0}, c302 = 0, c200 = 0;
	static char out[BURST][MSG_CAP], in[BURST][2048];
	struct mmsghdr msg[BURST];
	struct iovec iov[BURST];
	uint64_t t0 = now_ns(), timeout_ns = (uint64_t)o.timeout_ms * 1000000ull;
	while (answered + lost < o.count) {
		uint64_t now = now_ns();
		for (unsigned s = 0; s < o.sockets; s++) {
			/* fill free slots of this socket, expire old ones */
			unsigned n = 0;
			for (unsigned k = 0; k < per && n < BURST; k++) {
				struct slot *sl = &slots[s * per + k];
				if (sl->sent_ns && now - sl->sent_ns > timeout_ns) {
					sl->sent_ns = 0;
					lost++;
				}
				if (!sl->sent_ns && next < o.count) {
					sl->idx = next++;
					sl->sent_ns = now;
					int len = build(&o, sl->idx, k, port[s], out[n]);
					iov[n] = (struct iovec){out[n], (size_t)len};
					msg[n].msg_hdr = (struct msghdr){.msg_iov = &iov[n],
									 .msg_iovlen = 1};
					n++;
				}
			}
			if (n > 0 && sendmmsg(fd[s], msg, n, 0) < 0 && errno != EAGAIN) {
				perror("sendmmsg");
			}
			for (unsigned i = 0; i < BURST; i++) {
				iov[i] = (struct iovec){in[i], sizeof(in[i]) - 1};
				msg[i].msg_hdr =
					(struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
			}
			int got = recvmmsg(fd[s], msg, BURST, MSG_DONTWAIT, NULL);
			uint64_t t = now_ns();
			for (int i = 0; i < got; i++) {
				in[i][msg[i].msg_len] = '\0';
				unsigned code = (unsigned)atoi(in[i] + 8);
				const char *b = strstr(in[i], "branch=z9hG4bK-");
				if (!b) {
					continue;
				}
				unsigned k = (unsigned)strtoul(b + 15, NULL, 10);
				uint64_t idx = strtoull(strchr(b + 15, '-') + 1, NULL, 10);
				struct slot *sl = k < per ? &slots[s * per + k] : NULL;
				if (!sl || !sl->sent_ns || sl->idx != idx) {
					continue; /* late answer to a slot already reused */
				}
				lat[nlat++] = t - sl->sent_ns;
				sl->sent_ns = 0;
				answered++;
				codes[code / 100 < 7 ? code / 100 : 0]++;
				c200 += code == 200;
				c302 += code == 302;
			}
		}
		if (next >= o.count) {
			struct pollfd p = {.fd = fd[0], .events = POLLIN};
			poll(&p, 1, 1);
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		     ru.ru_stime.tv_usec / 1e6;
#define PCT(p) (nlat ? (double)lat[(size_t)((nlat - 1) * (p))] / 1000.0 : 0.0)
	printf("{\"mode\":\"%s\",\"requests\":%llu,\"answered\":%llu,\"lost\":%llu,\"seconds\":%.3f,"
	       "\"rate\":%.0f,\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu,\"200\":%llu,"
	       "\"302\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
	       "\"generator_cpu_s\":%.2f}\n",
	       o.mode, (unsigned long long)o.count, (unsigned long long)answered,
	       (unsigned long long)lost, secs, (double)answered / secs,
	       (unsigned long long)codes[2], (unsigned long long)codes[3],
	       (unsigned long long)codes[4], (unsigned long long)codes[5], (unsigned long long)c200,
	       (unsigned long long)c302, PCT(0.5), PCT(0.99), PCT(0.999), PCT(1.0), cpu);
	return lost > 0 ? 1 : 0;
}
