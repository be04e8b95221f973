/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's totals, progress line, table and JSON record (lb_report.h). Latencies are kept in
 * nanoseconds and shown in microseconds.
 */
#include <string.h>
#include <time.h>

#include "bench/lb_report.h"
#include "common/lc_alloc.h"

struct lb_totals *lb_totals_new(void)
{
	return lc_calloc(1, sizeof(struct lb_totals));
}

void lb_totals_free(struct lb_totals *t)
{
	lc_free(t);
}

static uint64_t get(const lc_counter_t *c)
{
	return lc_counter_get(c);
}

static void sum_op(struct lb_totals *t, unsigned o, const struct lb_op_stats *s)
{
	t->op[o].sent += get(&s->sent);
	t->op[o].retrans += get(&s->retrans);
	t->op[o].answered += get(&s->answered);
	t->op[o].wrong += get(&s->wrong);
	t->op[o].missing += get(&s->missing);
	t->op[o].provisional += get(&s->provisional);
	lb_hist_merge(&t->op[o].lat, &s->lat);
	lb_hist_merge(&t->lat, &s->lat);
}

static void sum_thread(struct lb_totals *t, const struct lb_stats *s, uint64_t *last_send,
		       uint64_t *last_answer)
{
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		sum_op(t, o, &s->op[o]);
	}
	for (unsigned w = 0; w < LB_W_COUNT; w++) {
		t->wrong_kind[w] += get(&s->wrong_kind[w]);
	}
	t->unsent += get(&s->unsent);
	t->behind += get(&s->behind);
	t->late += get(&s->late);
	t->duplicate += get(&s->duplicate);
	t->stray += get(&s->stray);
	t->acks += get(&s->acks);
	t->send_errors += get(&s->send_errors);
	t->rx_dropped += get(&s->rx_dropped);
	t->wait_s += (double)get(&s->wait_ns) / 1e9;
	t->thread_cpu_s += (double)get(&s->cpu_ns) / 1e9;
	t->lag_1ms += get(&s->lag_1ms);
	t->lag_max_ns = LC_MAX(t->lag_max_ns, get(&s->lag_max_ns));
	*last_send = LC_MAX(*last_send, get(&s->t_last_send_ns));
	*last_answer = LC_MAX(*last_answer, get(&s->t_last_answer_ns));
}

void lb_totals_collect(struct lb_totals *t, const struct lb_run *r, const struct lb_cfg *c)
{
	double user = t->cpu_user_s, sys = t->cpu_sys_s;
	memset(t, 0, sizeof(*t));
	t->cpu_user_s = user;
	t->cpu_sys_s = sys;
	lb_hist_init(&t->lat);
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		lb_hist_init(&t->op[o].lat);
	}
	uint64_t last_send = 0, last_answer = 0;
	for (unsigned i = 0; i < c->threads; i++) {
		sum_thread(t, lb_run_stats(r, i), &last_send, &last_answer);
	}
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		t->sent += t->op[o].sent;
		t->retrans += t->op[o].retrans;
		t->answered += t->op[o].answered;
		t->wrong_answers += t->op[o].wrong;
		t->missing += t->op[o].missing;
		t->provisional += t->op[o].provisional;
	}
	for (unsigned w = 1; w < LB_W_COUNT; w++) {
		t->wrong += t->wrong_kind[w];
	}
	t->end = lb_run_end_reason(r);
	bool done = lb_run_finished(r);
	t->elapsed_s = (double)(done && last_answer ? last_answer : lb_run_elapsed_ns(r)) / 1e9;
	t->send_s = (double)last_send / 1e9;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static double rate(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0.0;
}

void lb_report_progress(FILE *f, const struct lb_totals *t, double now_s, uint64_t prev_answered,
			double prev_s)
{
	double dt = now_s - prev_s;
	fprintf(f,
		"\r[%6.1fs] sent %llu  answered %llu  %.0f/s  wrong %llu  missing %llu  "
		"p99 %.0f us   ",
		now_s, (unsigned long long)t->sent, (unsigned long long)t->answered,
		dt > 0 ? (double)(t->answered - prev_answered) / dt : 0.0,
		(unsigned long long)t->wrong, (unsigned long long)t->missing,
		us(lb_hist_percentile(&t->lat, 99.0)));
	fflush(f);
}

/* The fraction of the sending threads' time spent waiting with nothing received. */
static double busy_idle(const struct lb_totals *t, const struct lb_cfg *c)
{
	double total = t->elapsed_s * c->threads;
	return total > 0 ? LC_MIN(t->wait_s / total, 1.0) : 0.0;
}

static void table_row(FILE *f, const char *name, uint64_t sent, uint64_t answered, uint64_t wrong,
		      uint64_t missing, uint64_t retrans, double secs, const struct lb_hist *h)
{
	fprintf(f, "%-12s %9llu %9llu %7llu %7llu %7llu %9.0f %8.1f %8.1f %8.1f %8.1f %9.1f\n",
		name, (unsigned long long)sent, (unsigned long long)answered,
		(unsigned long long)wrong, (unsigned long long)missing, (unsigned long long)retrans,
		rate(answered, secs), us(lb_hist_percentile(h, 50)), us(lb_hist_percentile(h, 90)),
		us(lb_hist_percentile(h, 99)), us(lb_hist_percentile(h, 99.9)), us(lb_hist_max(h)));
}

static void describe_load(FILE *f, const struct lb_cfg *c)
{
	if (c->open_loop) {
		fprintf(f, "open loop at %.0f requests/s", c->rate);
	} else {
		fprintf(f, "closed loop, window %u", c->window);
	}
	fprintf(f, ", %u thread%s x %u sockets -> %s%s", c->threads, c->threads > 1 ? "s" : "",
		c->sockets, c->nsip ? c->sip[0].text : c->lsp[0].text,
		c->nsip + c->nlsp > 1 ? " (and more, round robin)" : "");
}

void lb_report_table(FILE *f, const struct lb_totals *t, const struct lb_cfg *c)
{
	fprintf(f, "locus-bench %s: ", LB_VERSION);
	describe_load(f, c);
	fprintf(f,
		"\nmix %s; %llu AORs (seed %llu, %llu registered before); ended by %s after "
		"%.2f s\n\n",
		c->mix_text, (unsigned long long)c->aors, (unsigned long long)c->seed,
		(unsigned long long)c->registered, t->end, t->elapsed_s);
	fprintf(f, "%-12s %9s %9s %7s %7s %7s %9s %8s %8s %8s %8s %9s\n", "operation", "sent",
		"answered", "wrong", "missing", "retrans", "rate/s", "p50 us", "p90 us", "p99 us",
		"p99.9 us", "max us");
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		if (t->op[o].sent == 0) {
			continue;
		}
		table_row(f, lb_op_info(o)->name, t->op[o].sent, t->op[o].answered, t->op[o].wrong,
			  t->op[o].missing, t->op[o].retrans, t->elapsed_s, &t->op[o].lat);
	}
	table_row(f, "all", t->sent, t->answered, t->wrong_answers, t->missing, t->retrans,
		  t->elapsed_s, &t->lat);
	fprintf(f, "\nwrong answers: %llu", (unsigned long long)t->wrong);
	for (unsigned w = 1; w < LB_W_COUNT; w++) {
		if (t->wrong_kind[w] != 0) {
			fprintf(f, " (%s %llu)", lb_wrong_name(w),
				(unsigned long long)t->wrong_kind[w]);
		}
	}
	fprintf(f,
		"; missing %llu; late %llu; duplicate %llu; stray %llu; unsent %llu; "
		"send errors %llu\n",
		(unsigned long long)t->missing, (unsigned long long)t->late,
		(unsigned long long)t->duplicate, (unsigned long long)t->stray,
		(unsigned long long)t->unsent, (unsigned long long)t->send_errors);
	double cpu = t->cpu_user_s + t->cpu_sys_s;
	fprintf(f, "generator (%s): %.2f s CPU (user %.2f, sys %.2f), %.2f us per request",
		c->dpdk_args ? "dpdk" : "sockets", cpu, t->cpu_user_s, t->cpu_sys_s,
		t->sent ? cpu * 1e6 / (double)t->sent : 0.0);
	fprintf(f, "; idle (waiting for answers) %.1f %% of its threads' time",
		busy_idle(t, c) * 100.0);
	if (t->rx_dropped != 0) {
		fprintf(f, "; %llu frames dropped on receive", (unsigned long long)t->rx_dropped);
	}
	if (c->open_loop) {
		fprintf(f,
			"; offered %.0f/s, sent %.0f/s; lag max %.0f us, %llu requests over 1 ms "
			"late, %llu still due at the end (unsent)",
			rate(t->sent + t->unsent, t->send_s), rate(t->sent, t->send_s),
			us(t->lag_max_ns), (unsigned long long)t->lag_1ms,
			(unsigned long long)t->behind);
	}
	fprintf(f, "\nlatency from the histogram: within %.2f %% of the exact values\n",
		LB_HIST_REL_ERROR * 100.0);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			fprintf(f, "\\%c", ch);
		} else if (ch < 0x20) {
			fprintf(f, "\\u%04x", ch);
		} else {
			fputc(ch, f);
		}
	}
	fputc('"', f);
}

static void json_latency(FILE *f, const struct lb_hist *h)
{
	fprintf(f,
		"{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"min\":%.1f,"
		"\"mean\":%.1f}",
		us(lb_hist_percentile(h, 50)), us(lb_hist_percentile(h, 90)),
		us(lb_hist_percentile(h, 99)), us(lb_hist_percentile(h, 99.9)), us(lb_hist_max(h)),
		us(lb_hist_min(h)), lb_hist_mean(h) / 1000.0);
}

static void json_targets(FILE *f, const char *name, const struct lb_target *t, unsigned n)
{
	fprintf(f, "\"%s\":[", name);
	for (unsigned i = 0; i < n; i++) {
		if (i) {
			fputc(',', f);
		}
		json_str(f, t[i].text);
	}
	fputs("],", f);
}

static void json_config(FILE *f, const struct lb_cfg *c)
{
	char date[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(f, "{\"tool\":\"locus-bench\",\"version\":\"%s\",\"date\":\"%s\",\"label\":",
		LB_VERSION, date);
	json_str(f, c->label ? c->label : "");
	fputc(',', f);
	json_targets(f, "targets", c->sip, c->nsip);
	json_targets(f, "lsp_targets", c->lsp, c->nlsp);
	fprintf(f, "\"mix\":\"%s\",\"mode\":\"%s\",", c->mix_text,
		c->open_loop ? "open" : "closed");
	if (c->open_loop) {
		fprintf(f, "\"rate\":%.1f,\"max_outstanding\":%u,", c->rate, c->max_outstanding);
	} else {
		fprintf(f, "\"window\":%u,", c->window);
	}
	fprintf(f,
		"\"threads\":%u,\"sockets\":%u,\"aors\":%llu,\"registered\":%llu,\"seed\":%llu,"
		"\"run_id\":%llu,\"t1_ms\":%u,\"t2_ms\":%u,\"timeout_ms\":%u,\"ack\":%s,"
		"\"count\":%llu,\"duration_s\":%.3f,",
		c->threads, c->sockets, (unsigned long long)c->aors,
		(unsigned long long)c->registered, (unsigned long long)c->seed,
		(unsigned long long)c->run_id, c->t1_ms, c->t2_ms, c->timeout_ms,
		c->ack ? "true" : "false", (unsigned long long)c->count, c->duration_s);
}

static void json_ops(FILE *f, const struct lb_totals *t)
{
	fputs("\"ops\":{", f);
	bool first = true;
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		if (t->op[o].sent == 0) {
			continue;
		}
		fprintf(f,
			"%s\"%s\":{\"sent\":%llu,\"answered\":%llu,\"wrong\":%llu,\"missing\":%llu,"
			"\"retransmissions\":%llu,\"provisional\":%llu,\"throughput\":%.1f,"
			"\"latency_us\":",
			first ? "" : ",", lb_op_info(o)->name, (unsigned long long)t->op[o].sent,
			(unsigned long long)t->op[o].answered, (unsigned long long)t->op[o].wrong,
			(unsigned long long)t->op[o].missing, (unsigned long long)t->op[o].retrans,
			(unsigned long long)t->op[o].provisional,
			rate(t->op[o].answered, t->elapsed_s));
		json_latency(f, &t->op[o].lat);
		fputc('}', f);
		first = false;
	}
	fputs("}", f);
}

void lb_report_json(FILE *f, const struct lb_totals *t, const struct lb_cfg *c)
{
	json_config(f, c);
	fprintf(f,
		"\"end\":\"%s\",\"elapsed_s\":%.4f,\"send_s\":%.4f,\"sent\":%llu,\"unsent\":%llu,"
		"\"unsent_behind\":%llu,\"offered_rate\":%.1f,\"sent_rate\":%.1f,\"answered\":%llu,"
		"\"throughput\":%.1f,\"right\":%llu,"
		"\"wrong\":%llu,\"missing\":%llu,\"late\":%llu,\"duplicate\":%llu,\"stray\":%llu,"
		"\"retransmissions\":%llu,\"provisional\":%llu,\"acks\":%llu,\"send_errors\":%llu,"
		"\"wrong_by_kind\":{",
		t->end, t->elapsed_s, t->send_s, (unsigned long long)t->sent,
		(unsigned long long)t->unsent, (unsigned long long)t->behind,
		rate(t->sent + t->unsent, t->send_s), rate(t->sent, t->send_s),
		(unsigned long long)t->answered, rate(t->answered, t->elapsed_s),
		(unsigned long long)(t->answered - t->wrong_answers), (unsigned long long)t->wrong,
		(unsigned long long)t->missing, (unsigned long long)t->late,
		(unsigned long long)t->duplicate, (unsigned long long)t->stray,
		(unsigned long long)t->retrans, (unsigned long long)t->provisional,
		(unsigned long long)t->acks, (unsigned long long)t->send_errors);
	for (unsigned w = 1; w < LB_W_COUNT; w++) {
		fprintf(f, "%s\"%s\":%llu", w > 1 ? "," : "", lb_wrong_name(w),
			(unsigned long long)t->wrong_kind[w]);
	}
	fputs("},\"latency_us\":", f);
	json_latency(f, &t->lat);
	fprintf(f,
		",\"latency_rel_error\":%.5f,\"generator\":{\"transport\":\"%s\",\"cpu_s\":%.3f,"
		"\"user_s\":%.3f,\"sys_s\":%.3f,\"threads_cpu_s\":%.3f,\"wait_s\":%.3f,"
		"\"idle_frac\":%.4f,\"rx_dropped\":%llu,\"lag_max_us\":%.1f,\"lag_over_1ms\":%llu},",
		LB_HIST_REL_ERROR, c->dpdk_args ? "dpdk" : "sock", t->cpu_user_s + t->cpu_sys_s,
		t->cpu_user_s, t->cpu_sys_s, t->thread_cpu_s, t->wait_s, busy_idle(t, c),
		(unsigned long long)t->rx_dropped, us(t->lag_max_ns),
		(unsigned long long)t->lag_1ms);
	json_ops(f, t);
	fputs("}\n", f);
}
