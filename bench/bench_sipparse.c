/* SPDX-License-Identifier: MIT */
/*
 * bench_sipparse: how fast locus's SIP parser reads real-looking REGISTERs and INVITEs, next to
 * libosip2 on the same messages, and how many heap allocations each makes per message.
 *
 * How it works: a corpus is generated from a fixed seed (or loaded with --corpus). Every message
 * must parse with sip_parse() == LC_OK first; a failure is a generator or parser bug and stops the
 * run. libosip2 parses the corpus too, and the fields both parsers read are compared, so the race
 * is between two parsers that agree on the answer. Then each parser runs over the whole corpus
 * and over its REGISTERs alone, in rounds timed with CLOCK_MONOTONIC (one clock read per round,
 * never per message), for --seconds each. The mean is total time over total messages; the median
 * of the per-round figures is the number to quote on a shared machine, because a round that
 * lost the CPU to another process lands in the tail, not in the middle. One further untimed pass
 * per parser counts allocations through the process-wide malloc wrapper (alloc_count.c).
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/alloc_count.h"
#include "bench/bench_corpus.h"
#include "bench/bench_parsers.h"
#include "bench/bench_sipparse.h"
#include "common/lc_error.h"

#define DEFAULT_SEED 0x10c05u
#define DEFAULT_COUNT 1000
#define DEFAULT_SECONDS 2.0
#define MIN_ROUNDS 5
#define MAX_ROUNDS 10000000u
#define MAX_PRINTED 10

typedef uint64_t pass_fn(struct bench_msg *const *set, size_t n);

static struct sip_msg locus_msg; /* reused for every message, as a worker reuses its own */

static uint64_t pass_locus(struct bench_msg *const *set, size_t n)
{
	struct bench_fields f;
	uint64_t sink = 0;
	for (size_t i = 0; i < n; i++) {
		int r = bench_locus_parse(&locus_msg, set[i]->buf, set[i]->len, &f);
		sink += (uint64_t)r + f.cseq + f.nvia + f.ncontact + f.call_id.len;
	}
	return sink;
}

static uint64_t pass_osip(struct bench_msg *const *set, size_t n)
{
	struct bench_fields f;
	uint64_t sink = 0;
	for (size_t i = 0; i < n; i++) {
		int r = bench_osip_parse(set[i]->buf, set[i]->len, &f, false);
		sink += (uint64_t)r + f.cseq + f.nvia + f.ncontact + f.call_id.len;
	}
	return sink;
}

static volatile uint64_t sink; /* keeps the passes' results alive */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Time @p pass over @p set: rounds sized to the time budget unless --rounds fixed them. */
static int time_pass(pass_fn *pass, struct bench_msg *const *set, size_t n, unsigned fixed,
		     double seconds, struct bench_timing *t)
{
	double t0 = now_ns();
	sink += pass(set, n); /* warm-up: caches, branch predictors, libosip2's first mallocs */
	double warm = now_ns() - t0;
	unsigned rounds = fixed;
	if (rounds == 0) {
		double r = seconds * 1e9 / (warm > 1.0 ? warm : 1.0);
		rounds = r < MIN_ROUNDS ? MIN_ROUNDS : (r > MAX_ROUNDS ? MAX_ROUNDS : (unsigned)r);
	}
	double *per = malloc(rounds * sizeof(*per));
	if (per == NULL) {
		return LC_ENOMEM;
	}
	double total = 0;
	for (unsigned i = 0; i < rounds; i++) {
		double a = now_ns();
		sink += pass(set, n);
		double d = now_ns() - a;
		per[i] = d / (double)n;
		total += d;
	}
	qsort(per, rounds, sizeof(*per), cmp_double);
	t->rounds = rounds;
	t->msgs = n;
	t->ns_mean = total / ((double)rounds * (double)n);
	t->ns_median = (rounds % 2) ? per[rounds / 2] : (per[rounds / 2 - 1] + per[rounds / 2]) / 2;
	t->ns_min = per[0];
	t->ns_p90 = per[(size_t)((rounds - 1) * 0.9)];
	t->msgs_per_s = 1e9 / t->ns_median;
	free(per);
	return LC_OK;
}

static void count_allocs(pass_fn *pass, struct bench_msg *const *set, size_t n,
			 struct bench_timing *t)
{
	struct bench_alloc_stats a = bench_alloc_snapshot();
	sink += pass(set, n);
	struct bench_alloc_stats b = bench_alloc_snapshot();
	t->allocs_per_msg = (double)(b.allocs - a.allocs) / (double)n;
	t->frees_per_msg = (double)(b.frees - a.frees) / (double)n;
	t->bytes_per_msg = (double)(b.bytes - a.bytes) / (double)n;
}

static int measure(pass_fn *pass, struct bench_msg *const *set, size_t n,
		   const struct bench_opts *o, struct bench_timing *t)
{
	count_allocs(pass, set, n, t);
	return time_pass(pass, set, n, o->rounds, o->seconds, t);
}

static void print_message(FILE *out, const struct bench_msg *m)
{
	fprintf(out, "%.*s\n", (int)m->len, m->buf);
}

/* sip_parse() must accept every message; returns how many it refused, after printing them. */
static size_t verify_locus(struct bench_corpus *c, bool *ok)
{
	size_t bad = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct bench_msg *m = &c->msg[i];
		int r = sip_parse(&locus_msg, m->buf, m->len);
		ok[i] = (r == LC_OK);
		if (r == LC_OK) {
			continue;
		}
		if (bad++ < MAX_PRINTED) {
			fprintf(stderr,
				"--- message %zu (%s): sip_parse() = %s (%s), header '%.*s'\n", i,
				m->origin, lc_strerror_name(r), lc_strerror(r),
				(int)locus_msg.err_hdr.len,
				locus_msg.err_hdr.p ? locus_msg.err_hdr.p : "");
			print_message(stderr, m);
		}
	}
	return bad;
}

/* libosip2 must parse them too, and both must read the same fields. */
static void verify_osip(struct bench_corpus *c, bool *ok, struct bench_check *chk)
{
	char why[128];
	struct bench_fields lf, of;
	for (size_t i = 0; i < c->n; i++) {
		struct bench_msg *m = &c->msg[i];
		if (!ok[i]) {
			continue;
		}
		int r = bench_osip_parse(m->buf, m->len, &of, true);
		if (r != 0) {
			ok[i] = false;
			if (chk->osip_failed++ < MAX_PRINTED) {
				fprintf(stderr, "--- message %zu (%s): osip_message_parse() = %d\n",
					i, m->origin, r);
				print_message(stderr, m);
			}
			continue;
		}
		(void)bench_locus_parse(&locus_msg, m->buf, m->len, &lf);
		if (!bench_fields_agree(&lf, &of, why, sizeof(why)) &&
		    chk->disagree++ < MAX_PRINTED) {
			fprintf(stderr, "--- message %zu (%s): locus and libosip2 differ: %s\n", i,
				m->origin, why);
			print_message(stderr, m);
		}
	}
	bench_osip_release();
}

/* The messages both parsers accept, and the REGISTERs among them. */
static int build_sets(struct bench_corpus *c, const bool *ok, struct bench_sets *s)
{
	s->all = calloc(c->n, sizeof(*s->all));
	s->reg = calloc(c->n, sizeof(*s->reg));
	s->reg_plain = calloc(c->n, sizeof(*s->reg_plain));
	s->reg_auth = calloc(c->n, sizeof(*s->reg_auth));
	if (s->all == NULL || s->reg == NULL || s->reg_plain == NULL || s->reg_auth == NULL) {
		return LC_ENOMEM;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!ok[i]) {
			continue;
		}
		s->all[s->nall++] = &c->msg[i];
		if (sip_parse(&locus_msg, c->msg[i].buf, c->msg[i].len) == LC_OK &&
		    locus_msg.method_id == SIP_METHOD_REGISTER) {
			s->reg[s->nreg++] = &c->msg[i];
			if (locus_msg.nauth > 0) {
				s->reg_auth[s->nreg_auth++] = &c->msg[i];
			} else {
				s->reg_plain[s->nreg_plain++] = &c->msg[i];
			}
		}
	}
	return s->nall > 0 ? LC_OK : LC_ENOTFOUND;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? LC_OK : -errno;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [--seconds S] [--rounds N] [--seed X] [--count N] [--corpus DIR]\n"
		"          [--cpu N] [--keep-going] [--dump DIR] [--only locus|osip]\n"
		"          [--message NAME|all]\n"
		"  --seconds S   time budget per parser and message set (default %.0f)\n"
		"  --rounds N    fixed number of timed rounds instead of --seconds\n"
		"  --seed X      corpus seed (default 0x%x)\n"
		"  --count N     generated messages (default %d)\n"
		"  --corpus DIR  parse DIR/*.sip instead of a generated corpus\n"
		"  --cpu N       pin to CPU N\n"
		"  --keep-going  time the messages that parse instead of stopping at a failure\n"
		"  --dump DIR    write the corpus to DIR/NNNN.sip and exit\n"
		"  --only P      time one parser (for profiling); no ratio is reported\n"
		"  --message M   time only the named message M (or all of them) in a warm loop;\n"
		"                none: time only the corpus. The messages:\n",
		prog, DEFAULT_SECONDS, DEFAULT_SEED, DEFAULT_COUNT);
	for (size_t i = 0; i < bench_named_count; i++) {
		fprintf(out, "                  %-13s %s, %zu bytes\n", bench_named_msgs[i].name,
			bench_named_msgs[i].what, bench_named_msgs[i].len);
	}
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"rounds", required_argument, NULL, 'r'},
		{"seed", required_argument, NULL, 'S'},
		{"count", required_argument, NULL, 'n'},
		{"corpus", required_argument, NULL, 'c'},
		{"cpu", required_argument, NULL, 'p'},
		{"keep-going", no_argument, NULL, 'k'},
		{"dump", required_argument, NULL, 'd'},
		{"only", required_argument, NULL, 'o'},
		{"message", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct bench_opts){.seconds = DEFAULT_SECONDS,
				 .seed = DEFAULT_SEED,
				 .count = DEFAULT_COUNT,
				 .cpu = -1};
	for (int ch; (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
		switch (ch) {
		case 's':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'r':
			o->rounds = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			o->count = (size_t)strtoull(optarg, NULL, 0);
			break;
		case 'c':
			o->corpus_dir = optarg;
			break;
		case 'p':
			o->cpu = (int)strtol(optarg, NULL, 0);
			break;
		case 'k':
			o->keep_going = true;
			break;
		case 'd':
			o->dump_dir = optarg;
			break;
		case 'o':
			o->skip_osip = strcmp(optarg, "locus") == 0;
			o->skip_locus = strcmp(optarg, "osip") == 0;
			if (!o->skip_osip && !o->skip_locus) {
				usage(stderr, argv[0]);
				return LC_EINVAL;
			}
			break;
		case 'm':
			o->message = optarg;
			if (strcmp(optarg, "all") != 0 && strcmp(optarg, "none") != 0 &&
			    bench_named_find(optarg) == NULL) {
				usage(stderr, argv[0]);
				return LC_EINVAL;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return LC_EINVAL;
		}
	}
	if (o->message != NULL && strcmp(o->message, "none") == 0) {
		o->message = NULL;
		o->skip_named = true;
	}
	if (optind != argc || o->seconds <= 0 || o->count == 0) {
		usage(stderr, argv[0]);
		return LC_EINVAL;
	}
	return LC_OK;
}

/* Write the corpus out, one datagram per file, for other tools or the test corpus. */
static int dump_corpus(const char *dir, const struct bench_corpus *c)
{
	char path[4096];
	for (size_t i = 0; i < c->n; i++) {
		snprintf(path, sizeof(path), "%s/%04zu.sip", dir, i);
		FILE *f = fopen(path, "wb");
		if (f == NULL) {
			fprintf(stderr, "bench_sipparse: %s: %s\n", path, strerror(errno));
			return -errno;
		}
		size_t w = fwrite(c->msg[i].buf, 1, c->msg[i].len, f);
		if (fclose(f) != 0 || w != c->msg[i].len) {
			fprintf(stderr, "bench_sipparse: %s: write failed\n", path);
			return -EIO;
		}
	}
	return LC_OK;
}

static int load_corpus(const struct bench_opts *o, struct bench_corpus *c)
{
	int r = o->corpus_dir ? bench_corpus_load(c, o->corpus_dir)
			      : bench_corpus_gen(c, o->seed, o->count);
	if (r != LC_OK) {
		fprintf(stderr, "bench_sipparse: cannot %s the corpus: %s (%s)\n",
			o->corpus_dir ? "load" : "generate", lc_strerror_name(r),
			r > -1000 ? strerror(-r) : lc_strerror(r));
	}
	return r;
}

/* Verify, then build the message sets; a generated corpus must parse in full. */
static int check_corpus(const struct bench_opts *o, struct bench_corpus *c, struct bench_sets *s,
			struct bench_check *chk)
{
	bool *ok = calloc(c->n, sizeof(*ok));
	if (ok == NULL) {
		return LC_ENOMEM;
	}
	chk->locus_failed = verify_locus(c, ok);
	if (chk->locus_failed > 0 && o->corpus_dir == NULL && !o->keep_going) {
		fprintf(stderr,
			"bench_sipparse: %zu of %zu generated messages do not parse; "
			"a generator or parser bug, see above (--keep-going times the rest)\n",
			chk->locus_failed, c->n);
		free(ok);
		return LC_EMALFORMED;
	}
	verify_osip(c, ok, chk);
	int r = build_sets(c, ok, s);
	free(ok);
	return r;
}

static int run(const struct bench_opts *o, const struct bench_sets *s, struct bench_results *res)
{
	int r = LC_OK;
	if (!o->skip_locus) {
		r = measure(pass_locus, s->all, s->nall, o, &res->locus_all);
	}
	if (r == LC_OK && !o->skip_osip) {
		r = measure(pass_osip, s->all, s->nall, o, &res->osip_all);
	}
	if (r == LC_OK && !o->skip_locus && s->nreg > 0) {
		r = measure(pass_locus, s->reg, s->nreg, o, &res->locus_reg);
	}
	if (r == LC_OK && !o->skip_osip && s->nreg > 0) {
		r = measure(pass_osip, s->reg, s->nreg, o, &res->osip_reg);
	}
	if (r == LC_OK && !o->skip_locus && s->nreg_plain > 0) {
		r = measure(pass_locus, s->reg_plain, s->nreg_plain, o, &res->locus_reg_plain);
	}
	if (r == LC_OK && !o->skip_osip && s->nreg_plain > 0) {
		r = measure(pass_osip, s->reg_plain, s->nreg_plain, o, &res->osip_reg_plain);
	}
	if (r == LC_OK && !o->skip_locus && s->nreg_auth > 0) {
		r = measure(pass_locus, s->reg_auth, s->nreg_auth, o, &res->locus_reg_auth);
	}
	if (r == LC_OK && !o->skip_osip && s->nreg_auth > 0) {
		r = measure(pass_osip, s->reg_auth, s->nreg_auth, o, &res->osip_reg_auth);
	}
	return r;
}

/*
 * One named message, parsed NAMED_REPEAT times per round from its own heap buffer of exactly its
 * length (so a sanitizer build would catch a read past its end). A corpus run gives each a quarter
 * of --seconds: a warm loop over one message varies little between rounds.
 */
#define NAMED_REPEAT 256

static int run_named(const struct bench_opts *o, const struct bench_named *nm, double seconds,
		     struct bench_named_timing *t)
{
	struct bench_msg msg = {.len = nm->len, .origin = nm->name};
	struct bench_msg *set[NAMED_REPEAT];
	struct bench_fields lf, of;
	char why[128];
	int r = LC_ENOMEM;
	t->msg = nm;
	msg.buf = malloc(nm->len);
	if (msg.buf == NULL) {
		return r;
	}
	memcpy(msg.buf, nm->text, nm->len);
	for (size_t i = 0; i < NAMED_REPEAT; i++) {
		set[i] = &msg;
	}
	r = bench_locus_parse(&locus_msg, msg.buf, msg.len, &lf);
	if (r != LC_OK) {
		fprintf(stderr, "bench_sipparse: message %s: sip_parse() = %s (%s)\n", nm->name,
			lc_strerror_name(r), lc_strerror(r));
		goto out;
	}
	if (bench_osip_parse(msg.buf, msg.len, &of, true) != 0) {
		fprintf(stderr, "bench_sipparse: message %s: libosip2 refuses it\n", nm->name);
		r = LC_EMALFORMED;
		goto out;
	}
	t->disagree = !bench_fields_agree(&lf, &of, why, sizeof(why));
	bench_osip_release();
	if (t->disagree) {
		fprintf(stderr, "bench_sipparse: message %s: locus and libosip2 differ: %s\n",
			nm->name, why);
	}
	if (!o->skip_locus) {
		count_allocs(pass_locus, set, NAMED_REPEAT, &t->locus);
		r = time_pass(pass_locus, set, NAMED_REPEAT, o->rounds, seconds, &t->locus);
	}
	if (r == LC_OK && !o->skip_osip) {
		count_allocs(pass_osip, set, NAMED_REPEAT, &t->osip);
		r = time_pass(pass_osip, set, NAMED_REPEAT, o->rounds, seconds, &t->osip);
	}
out:
	free(msg.buf);
	return r;
}

/* The named messages --message asks for, or all of them in a corpus run. */
static int run_named_all(const struct bench_opts *o, struct bench_results *res)
{
	double seconds = o->message ? o->seconds : o->seconds / 4;
	for (size_t i = 0; i < bench_named_count && res->nnamed < BENCH_NAMED_MAX; i++) {
		const struct bench_named *nm = &bench_named_msgs[i];
		if (o->message != NULL && strcmp(o->message, "all") != 0 &&
		    strcmp(o->message, nm->name) != 0) {
			continue;
		}
		int r = run_named(o, nm, seconds, &res->named[res->nnamed]);
		if (r != LC_OK) {
			return r;
		}
		res->nnamed++;
	}
	return LC_OK;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_corpus c = {0};
	struct bench_sets s = {0};
	struct bench_check chk = {0};
	struct bench_results res = {0};
	struct bench_sysinfo si;
	bench_sysinfo_get(&si);
	int r = parse_args(argc, argv, &o);
	if (r == LC_OK && o.cpu >= 0 && (r = pin_cpu(o.cpu)) != LC_OK) {
		fprintf(stderr, "bench_sipparse: cannot pin to CPU %d: %s\n", o.cpu, strerror(-r));
	}
	if (r == LC_OK) {
		bench_osip_init();
		r = (o.message == NULL || o.dump_dir != NULL) ? load_corpus(&o, &c) : LC_OK;
	}
	if (r == LC_OK && o.message != NULL && o.dump_dir == NULL) {
		r = run_named_all(&o, &res);
		if (r == LC_OK) {
			bench_report(stdout, &si, &o, &s, &chk, &res, argc, argv);
		}
		bench_corpus_free(&c);
		return r == LC_OK ? 0 : 1;
	}
	if (r == LC_OK && o.dump_dir != NULL) {
		r = dump_corpus(o.dump_dir, &c);
		bench_corpus_free(&c);
		return r == LC_OK ? 0 : 1;
	}
	if (r == LC_OK) {
		r = check_corpus(&o, &c, &s, &chk);
	}
	if (r == LC_OK) {
		r = run(&o, &s, &res);
	}
	if (r == LC_OK && !o.skip_named) {
		r = run_named_all(&o, &res);
	}
	if (r == LC_OK) {
		bench_report(stdout, &si, &o, &s, &chk, &res, argc, argv);
	}
	free(s.all);
	free(s.reg);
	free(s.reg_plain);
	free(s.reg_auth);
	bench_corpus_free(&c);
	return r == LC_OK ? 0 : 1;
}
