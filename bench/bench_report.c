/* SPDX-License-Identifier: MIT */
/*
 * The parser benchmark's report: what the corpus looked like, a table of the figures, the goals
 * met or missed, and one line "JSON {...}" with everything, for scripts that collect results.
 * Ratios compare medians, the figure least disturbed by other processes on a shared machine.
 */
#include <string.h>

#include "bench/alloc_count.h"
#include "bench/bench_sipparse.h"
#include "bench/bench_sysinfo.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif
#ifndef BENCH_OSIP_VERSION
#define BENCH_OSIP_VERSION "unknown"
#endif

/* Owner: bench_report's stack; the shape of the messages timed. */
struct corpus_shape {
	size_t reg, invite, bytes_min, bytes_max, auth, rr, compact, reduced;
	double bytes_mean;
	size_t via[6], contact[4]; /* [k] = messages with k (last: k or more); generated only */
};

static void shape_of(const struct bench_sets *s, struct corpus_shape *sh)
{
	size_t total = 0;
	*sh = (struct corpus_shape){.bytes_min = SIZE_MAX};
	sh->reg = s->nreg;
	sh->invite = s->nall - s->nreg;
	for (size_t i = 0; i < s->nall; i++) {
		const struct bench_msg *m = s->all[i];
		total += m->len;
		sh->bytes_min = m->len < sh->bytes_min ? m->len : sh->bytes_min;
		sh->bytes_max = m->len > sh->bytes_max ? m->len : sh->bytes_max;
		sh->via[m->nvia < 5 ? m->nvia : 5]++;
		sh->contact[m->ncontact < 3 ? m->ncontact : 3]++;
		sh->auth += m->auth;
		sh->rr += m->record_route;
		sh->compact += m->compact;
		sh->reduced += m->reduced;
	}
	sh->bytes_mean = s->nall ? (double)total / (double)s->nall : 0;
}

/* libosip2 over locus, from the medians; 0 when either was not timed (--only). */
static double ratio(const struct bench_timing *osip, const struct bench_timing *locus)
{
	return (locus->msgs > 0 && osip->msgs > 0) ? osip->ns_median / locus->ns_median : 0;
}

static const char *verdict(bool measured, bool met)
{
	return !measured ? "n/a" : (met ? "met" : "MISSED");
}

static const char *json_bool(bool measured, bool met)
{
	return !measured ? "null" : (met ? "true" : "false");
}

static void print_row(FILE *out, const char *name, const char *set, const struct bench_timing *t)
{
	if (t->msgs == 0) {
		return;
	}
	fprintf(out, "%-9s %-9s %8u %11.1f %11.1f %9.1f %11.0f", name, set, t->rounds, t->ns_mean,
		t->ns_median, t->ns_p90, t->msgs_per_s);
	if (bench_alloc_counting()) {
		fprintf(out, " %9.2f %9.0f\n", t->allocs_per_msg, t->bytes_per_msg);
	} else {
		fprintf(out, " %9s %9s\n", "n/a", "n/a");
	}
}

static void print_table(FILE *out, const struct bench_opts *o, const struct corpus_shape *sh,
			const struct bench_check *chk, const struct bench_results *r)
{
	if (o->corpus_dir != NULL) {
		fprintf(out, "corpus: %s/*.sip\n", o->corpus_dir);
	} else {
		fprintf(out, "corpus: generated, seed 0x%llx, %zu messages\n",
			(unsigned long long)o->seed, o->count);
		fprintf(out,
			"  Vias 1/2/3/4/5: %zu/%zu/%zu/%zu/%zu; Contacts 1/2/3: %zu/%zu/%zu; "
			"with credentials %zu, Record-Route %zu, compact %zu; "
			"%zu gave up a feature to fit 900 bytes\n",
			sh->via[1], sh->via[2], sh->via[3], sh->via[4], sh->via[5], sh->contact[1],
			sh->contact[2], sh->contact[3], sh->auth, sh->rr, sh->compact, sh->reduced);
	}
	fprintf(out, "  timed: %zu REGISTER + %zu other, %zu..%zu bytes (mean %.0f)\n", sh->reg,
		sh->invite, sh->bytes_min, sh->bytes_max, sh->bytes_mean);
	fprintf(out, "  refused by locus %zu, by libosip2 %zu; fields differ in %zu\n\n",
		chk->locus_failed, chk->osip_failed, chk->disagree);
	fprintf(out, "%-9s %-9s %8s %11s %11s %9s %11s %9s %9s\n", "parser", "messages", "rounds",
		"ns/msg mean", "ns/msg med", "p90", "msgs/s", "allocs", "bytes");
	print_row(out, "locus", "all", &r->locus_all);
	print_row(out, "libosip2", "all", &r->osip_all);
	print_row(out, "locus", "REGISTER", &r->locus_reg);
	print_row(out, "libosip2", "REGISTER", &r->osip_reg);
	print_row(out, "locus", "REG-plain", &r->locus_reg_plain);
	print_row(out, "libosip2", "REG-plain", &r->osip_reg_plain);
	print_row(out, "locus", "REG-auth", &r->locus_reg_auth);
	print_row(out, "libosip2", "REG-auth", &r->osip_reg_auth);
	if (r->locus_all.msgs > 0 && r->osip_all.msgs > 0) {
		fprintf(out,
			"\nlibosip2 / locus (medians): all %.1fx, REGISTER %.1fx "
			"(without credentials %.1fx, with %.1fx)\n",
			ratio(&r->osip_all, &r->locus_all), ratio(&r->osip_reg, &r->locus_reg),
			ratio(&r->osip_reg_plain, &r->locus_reg_plain),
			ratio(&r->osip_reg_auth, &r->locus_reg_auth));
	}
	fprintf(out, "  REG-plain: %zu REGISTERs without credentials; REG-auth: %zu with\n",
		r->locus_reg_plain.msgs ? r->locus_reg_plain.msgs : r->osip_reg_plain.msgs,
		r->locus_reg_auth.msgs ? r->locus_reg_auth.msgs : r->osip_reg_auth.msgs);
}

/* The named messages (--message), each parsed over and over in a warm loop. */
static void print_named(FILE *out, const struct bench_results *r)
{
	if (r->nnamed == 0) {
		return;
	}
	fprintf(out, "\nsingle messages, warm loop (ns/msg medians):\n");
	fprintf(out, "%-13s %6s %9s %9s %7s %7s  %s\n", "message", "bytes", "locus", "libosip2",
		"ratio", "allocs", "what");
	for (size_t i = 0; i < r->nnamed; i++) {
		const struct bench_named_timing *t = &r->named[i];
		fprintf(out, "%-13s %6zu %9.1f %9.1f %6.1fx %7.2f  %s%s\n", t->msg->name,
			t->msg->len, t->locus.ns_median, t->osip.ns_median,
			ratio(&t->osip, &t->locus), t->locus.allocs_per_msg, t->msg->what,
			t->disagree ? " (fields differ!)" : "");
	}
}

/* The timing of the message the REGISTER goal is judged on, or NULL when it was not timed. */
static const struct bench_timing *typical_register(const struct bench_results *r)
{
	for (size_t i = 0; i < r->nnamed; i++) {
		if (strcmp(r->named[i].msg->name, BENCH_TYPICAL_REGISTER) == 0 &&
		    r->named[i].locus.msgs > 0) {
			return &r->named[i].locus;
		}
	}
	return NULL;
}

/* Allocations per message over everything locus parsed: the corpus, else the named messages. */
static const struct bench_timing *alloc_timing(const struct bench_results *r)
{
	if (r->locus_all.msgs > 0 || r->nnamed == 0) {
		return &r->locus_all;
	}
	return &r->named[0].locus;
}

static void print_goals(FILE *out, const struct bench_results *r)
{
	double q = ratio(&r->osip_all, &r->locus_all);
	const struct bench_timing *typ = typical_register(r);
	const struct bench_timing *al = alloc_timing(r);
	double reg = typ ? typ->ns_median : 0;
	fprintf(out, "\ngoal: >= %.0fx faster than libosip2 ... %s (%.1fx)\n", BENCH_GOAL_RATIO,
		verdict(q > 0, q >= BENCH_GOAL_RATIO), q);
	fprintf(out, "goal: typical REGISTER (%s) < %.0f ns ... %s (%.1f ns)\n",
		BENCH_TYPICAL_REGISTER, BENCH_GOAL_REGISTER_NS,
		verdict(typ != NULL, reg < BENCH_GOAL_REGISTER_NS), reg);
	fprintf(out, "goal: 0 allocations per message ... %s (%.2f)%s\n",
		verdict(bench_alloc_counting() && al->msgs > 0, al->allocs_per_msg == 0),
		al->allocs_per_msg, bench_alloc_counting() ? "" : ", sanitizer build");
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			fprintf(out, "\\%c", ch);
		} else if (ch < 0x20) {
			fprintf(out, "\\u%04x", ch);
		} else {
			fputc(ch, out);
		}
	}
	fputc('"', out);
}

static void json_timing(FILE *out, const char *key, const struct bench_timing *t)
{
	if (t->msgs == 0) {
		fprintf(out, "\"%s\":null", key);
		return;
	}
	fprintf(out,
		"\"%s\":{\"messages\":%zu,\"rounds\":%u,\"ns_mean\":%.2f,\"ns_median\":%.2f,"
		"\"ns_min\":%.2f,\"ns_p90\":%.2f,\"msgs_per_s\":%.0f,",
		key, t->msgs, t->rounds, t->ns_mean, t->ns_median, t->ns_min, t->ns_p90,
		t->msgs_per_s);
	if (bench_alloc_counting()) {
		fprintf(out,
			"\"allocs_per_msg\":%.3f,\"frees_per_msg\":%.3f,\"bytes_per_msg\":%.1f}",
			t->allocs_per_msg, t->frees_per_msg, t->bytes_per_msg);
	} else {
		fprintf(out,
			"\"allocs_per_msg\":null,\"frees_per_msg\":null,\"bytes_per_msg\":null}");
	}
}

/* One parser's timings over the four message sets, as JSON members. */
static void json_sets(FILE *out, const struct bench_timing *all, const struct bench_timing *reg,
		      const struct bench_timing *plain, const struct bench_timing *auth)
{
	json_timing(out, "all", all);
	fputc(',', out);
	json_timing(out, "register", reg);
	fputc(',', out);
	json_timing(out, "register_plain", plain);
	fputc(',', out);
	json_timing(out, "register_auth", auth);
}

static void json_head(FILE *out, const struct bench_sysinfo *si, int argc, char **argv)
{
	char cmd[2048] = "";
	size_t n = 0;
	for (int i = 0; i < argc && n < sizeof(cmd); i++) {
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", argv[i]);
	}
	fprintf(out, "JSON {\"bench\":\"sipparse\",\"date\":\"%s\",\"machine\":", si->date);
	json_str(out, si->machine);
	fprintf(out, ",\"cpu\":");
	json_str(out, si->cpu);
	fprintf(out, ",\"nproc\":%ld,\"kernel\":", si->nproc);
	json_str(out, si->kernel);
	fprintf(out, ",\"compiler\":");
	json_str(out, si->compiler);
	fprintf(out, ",\"buildtype\":\"%s\",\"libosip2\":\"%s\",\"loadavg\":\"%s\",\"cmdline\":",
		BENCH_BUILDTYPE, BENCH_OSIP_VERSION, si->loadavg);
	json_str(out, cmd);
}

static void json_line(FILE *out, const struct bench_opts *o, const struct corpus_shape *sh,
		      const struct bench_check *chk, const struct bench_results *r)
{
	if (sh->reg + sh->invite == 0) {
		fprintf(out, ",\"corpus\":null,"); /* --message: named messages only */
	} else {
		fprintf(out, ",\"corpus\":{\"source\":");
		json_str(out, o->corpus_dir ? o->corpus_dir : "generated");
		fprintf(out,
			",\"seed\":%llu,\"register\":%zu,\"other\":%zu,\"bytes_min\":%zu,"
			"\"bytes_mean\":%.1f,\"bytes_max\":%zu,\"locus_failed\":%zu,"
			"\"osip_failed\":%zu,\"disagree\":%zu},",
			(unsigned long long)o->seed, sh->reg, sh->invite, sh->bytes_min,
			sh->bytes_mean, sh->bytes_max, chk->locus_failed, chk->osip_failed,
			chk->disagree);
	}
	fprintf(out, "\"locus\":{");
	json_sets(out, &r->locus_all, &r->locus_reg, &r->locus_reg_plain, &r->locus_reg_auth);
	fprintf(out, "},\"libosip2\":{");
	json_sets(out, &r->osip_all, &r->osip_reg, &r->osip_reg_plain, &r->osip_reg_auth);
	double q = ratio(&r->osip_all, &r->locus_all);
	double qr = ratio(&r->osip_reg, &r->locus_reg);
	if (q > 0) {
		fprintf(out, "},\"ratio\":{\"all\":%.2f,\"register\":%.2f},", q, qr);
	} else {
		fprintf(out, "},\"ratio\":null,");
	}
	fprintf(out, "\"named\":{");
	for (size_t i = 0; i < r->nnamed; i++) {
		fprintf(out, "%s\"%s\":{\"bytes\":%zu,\"disagree\":%s,", i ? "," : "",
			r->named[i].msg->name, r->named[i].msg->len,
			r->named[i].disagree ? "true" : "false");
		json_timing(out, "locus", &r->named[i].locus);
		fputc(',', out);
		json_timing(out, "libosip2", &r->named[i].osip);
		fputc('}', out);
	}
	const struct bench_timing *typ = typical_register(r);
	const struct bench_timing *al = alloc_timing(r);
	fprintf(out,
		"},\"goals\":{\"ratio_5x\":%s,\"register_under_400ns\":%s,\"zero_allocs\":%s}}"
		"\n",
		json_bool(q > 0, q >= BENCH_GOAL_RATIO),
		json_bool(typ != NULL, typ && typ->ns_median < BENCH_GOAL_REGISTER_NS),
		json_bool(bench_alloc_counting() && al->msgs > 0, al->allocs_per_msg == 0));
}

void bench_report(FILE *out, const struct bench_sysinfo *si, const struct bench_opts *o,
		  const struct bench_sets *s, const struct bench_check *chk,
		  const struct bench_results *res, int argc, char **argv)
{
	struct corpus_shape sh;
	shape_of(s, &sh);
	fprintf(out, "bench_sipparse: locus sip_parse() vs libosip2 %s, %s on %s (%ld CPUs), %s\n",
		BENCH_OSIP_VERSION, si->machine, si->cpu, si->nproc, si->compiler);
	fprintf(out, "  started %s, kernel %s, load average at start %s, build %s\n", si->date,
		si->kernel, si->loadavg, BENCH_BUILDTYPE);
	if (s->nall > 0) {
		print_table(out, o, &sh, chk, res);
	}
	print_named(out, res);
	print_goals(out, res);
	json_head(out, si, argc, argv);
	json_line(out, o, &sh, chk, res);
	fflush(out);
}
