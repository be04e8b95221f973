/* SPDX-License-Identifier: MIT */
/*
 * The scan backend (sip_scan.h, sip_scan_sse2.c on x86-64) against the class table it must agree
 * with, at every length and alignment around its 16-byte blocks, and whole datagrams placed so
 * that they end exactly at a page boundary with an inaccessible page after it: a scanner that
 * read one byte too far would fault here, whatever the sanitizer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_msg.h"
#include "sipparse/sip_scan.h"
#include "tests/tap.h"

/* splitmix64, so every run checks the same inputs */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static const char *table_skip(const char *p, const char *end, unsigned cls)
{
	while (p < end && sip_is(*p, cls)) {
		p++;
	}
	return p;
}

/* Runs of class bytes with one stop byte (any value) at every position, all lengths to 70. */
static void check_against_table(void)
{
	static const char stops[] = {'\0', '\t', '\n', '\r',	   0x1f,       ' ',
				     '"',  '\\', 0x7f, (char)0x80, (char)0xff, 'a'};
	char buf[128];
	uint64_t seed = 42;
	unsigned bad_text = 0, bad_qd = 0, runs = 0;
	for (size_t len = 0; len <= 70; len++) {
		for (size_t stop = 0; stop <= len; stop++) {
			for (size_t k = 0; k < sizeof(stops); k++) {
				for (size_t i = 0; i < len; i++) {
					/* printable, space, tab and UTF-8 bytes: in both classes */
					static const char fill[] = "aZ9 \t~!#[]{}\xc3\xa9";
					buf[i] = fill[rnd(&seed) % (sizeof(fill) - 1)];
				}
				if (stop < len) {
					buf[stop] = stops[k];
				}
				const char *end = buf + len;
				bad_text +=
					sip_skip_text(buf, end) != table_skip(buf, end, SIP_C_TEXT);
				bad_qd += sip_skip_qdtext(buf, end) !=
					  table_skip(buf, end, SIP_C_QDTEXT);
				runs++;
			}
		}
	}
	ok(bad_text == 0, "sip_skip_text agrees with SIP_C_TEXT on %u runs (%u differ)", runs,
	   bad_text);
	ok(bad_qd == 0, "sip_skip_qdtext agrees with SIP_C_QDTEXT on %u runs (%u differ)", runs,
	   bad_qd);
	/* every byte value as the stop, at an offset that puts it in an overlapping last block */
	unsigned bad = 0;
	for (int c = 0; c < 256; c++) {
		memset(buf, 'x', 40);
		buf[37] = (char)c;
		bad += sip_skip_text(buf + 3, buf + 40) !=
		       table_skip(buf + 3, buf + 40, SIP_C_TEXT);
		bad += sip_skip_qdtext(buf + 3, buf + 40) !=
		       table_skip(buf + 3, buf + 40, SIP_C_QDTEXT);
	}
	ok(bad == 0, "every byte value stops both scans where the table does (%u differ)", bad);
}

/*
 * sip_host_scan() against sip_host_scan_scalar(): random hosts (names, dotted quads, near misses)
 * at every length to 80, each cut at every end, with the datagram ending at end or 16 bytes later.
 */
static void check_host_scan(void)
{
	static const char *const alphabets[] = {"0123456789.", "0123456789..25", "ab-.", "aZ09-.",
						"a0.-:;>@ \x80_"};
	char buf[160];
	uint64_t seed = 7;
	unsigned bad = 0, runs = 0;
	for (size_t len = 0; len <= 80; len++) {
		for (unsigned rep = 0; rep < 40; rep++) {
			const char *al = alphabets[rep % 5];
			size_t nal = strlen(al);
			for (size_t i = 0; i < sizeof(buf); i++) {
				buf[i] = al[rnd(&seed) % nal];
			}
			if (rep % 7 == 0 && len >= 7) {
				/* a dotted quad, maybe out of range, maybe followed by more */
				unsigned a = (unsigned)(rnd(&seed) % 300),
					 b = (unsigned)(rnd(&seed) % 300);
				int k = snprintf(buf, sizeof(buf), "%u.%u.1%s.%u", a, b,
						 rep % 2 ? "0" : "", (unsigned)(rnd(&seed) % 1000));
				buf[k] = al[rnd(&seed) % nal];
			}
			for (size_t end = 0; end <= len; end++) {
				for (size_t extra = 0; extra <= 16; extra += 16) {
					int t1 = -1, t2 = -1;
					const char *a = sip_host_scan(buf, buf + end,
								      buf + end + extra, &t1);
					const char *b = sip_host_scan_scalar(buf, buf + end, &t2);
					bad += a != b || (a != NULL && t1 != t2);
					runs++;
				}
			}
		}
	}
	ok(bad == 0, "sip_host_scan agrees with sip_host_scan_scalar on %u runs (%u differ)", runs,
	   bad);
}

/* sip_bare_uri_end() against its definition, at every length and cut, near the datagram's end. */
static void check_bare_uri_end(void)
{
	static const char alphabet[] = "ab:@.;,? \t\r\n\x0b\x0c\x08\x0e=>";
	char buf[96];
	uint64_t seed = 11;
	unsigned bad = 0, runs = 0;
	for (size_t len = 0; len <= 70; len++) {
		for (unsigned rep = 0; rep < 30; rep++) {
			for (size_t i = 0; i < sizeof(buf); i++) {
				/* mostly URI bytes, so runs are long */
				uint64_t r = rnd(&seed);
				buf[i] = r % 8 ? alphabet[r % 5]
					       : alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
			}
			for (size_t end = 0; end <= len; end++) {
				for (size_t extra = 0; extra <= 16; extra += 8) {
					const char *want = buf;
					while (want < buf + end && !strchr(";,? \t\r\n", *want)) {
						want++;
					}
					bad += sip_bare_uri_end(buf, buf + end,
								buf + end + extra) != want;
					runs++;
				}
			}
		}
	}
	ok(bad == 0, "sip_bare_uri_end agrees with its definition on %u runs (%u differ)", runs,
	   bad);
}

static const char msg[] =
	"REGISTER sip:sip.example.org SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.23:5060;branch=z9hG4bK.PJtcw~Xz2;rport\r\n"
	"From: <sip:alice@sip.example.org>;tag=Xy7Zq9W2v\r\n"
	"To: sip:alice@sip.example.org\r\n"
	"CSeq: 20 REGISTER\r\n"
	"Call-ID: mK4pQ8sT2u\r\n"
	"Contact: <sip:alice@192.168.1.23:5060;transport=udp>;"
	"+sip.instance=\"<urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301>\";reg-id=1\r\n"
	"Authorization: Digest username=\"alice\", realm=\"sip.example.org\", "
	"nonce=\"5f3c1a7e2b9d4c80a1e6f2d3b4c5a697\", uri=\"sip:sip.example.org\", "
	"response=\"0a1b2c3d4e5f60718293a4b5c6d7e8f9\"\r\n"
	"User-Agent: LinphoneAndroid/5.2.5 (Pixel 7) LinphoneSDK/5.3.47 (tags/5.3.47)\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/*
 * The message and every prefix of it (each one a datagram that ends mid-field) copied so its last
 * byte is the last byte of a page followed by a PROT_NONE page: parsing must not fault.
 */
static void check_page_end(void)
{
	static struct sip_msg m;
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (!ok(map != MAP_FAILED, "mmap two pages") ||
	    !ok(mprotect(map + pg, (size_t)pg, PROT_NONE) == 0, "guard page")) {
		return;
	}
	size_t n = sizeof(msg) - 1;
	unsigned parsed = 0, errors = 0;
	for (size_t len = 1; len <= n; len++) {
		char *b = map + pg - len;
		memcpy(b, msg, len);
		errors += sip_parse(&m, b, len) !=
			  LC_OK; /* every prefix but the whole is cut short */
		parsed++;
	}
	ok(parsed == n && errors == n - 1, "%u prefixes parsed against a guard page, no fault",
	   parsed);
	char *b = map + pg - n;
	memcpy(b, msg, n);
	ok(sip_parse(&m, b, n) == LC_OK && m.user_agent.len == 64 &&
		   m.contact[0].instance.len == 49 && m.auth[0].nonce.len == 32,
	   "the whole message parses at the page end, quoted and TEXT values intact");
	munmap(map, (size_t)pg * 2);
}

int main(void)
{
	plan(9);
	check_against_table();
	check_host_scan();
	check_bare_uri_end();
	check_page_end();
	return tap_failed != 0;
}
