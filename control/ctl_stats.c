/* SPDX-License-Identifier: MIT */
/*
 * Summing the workers' single-writer counters into a JSON document. The counters are read
 * without stopping anyone, so the totals are a snapshot that may be a few packets apart between
 * fields, which is what a monitoring tool expects. An io backend with counters of its own (the
 * DPDK backend's per-queue frames, ARP, ICMP and drops by reason) adds an "io" object.
 */
#include "control/ctl_stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_compiler.h"
#include "control/ctl_json.h"
#include "dataplane/dp_dpdk.h"
#include "sipparse/sip_msg.h"

/* One counter set (a worker's, or the sum when @p sum is set), with the store's figures. */
#define IO_MAX 64

struct figures {
	struct dp_stats s; /* plain copies: these are never written concurrently */
	struct dht_store_stats st;
	unsigned nio; /* the io backend's counters: the same names for every worker */
	const char *const *io_names;
	uint64_t io[IO_MAX];
};

static void add_worker(struct figures *f, const struct dp_worker *w)
{
	const struct dp_stats *s = dp_worker_stats(w);
	const lc_counter_t *src = (const lc_counter_t *)s;
	lc_counter_t *dst = (lc_counter_t *)&f->s;
	for (size_t i = 0; i < sizeof(*s) / sizeof(lc_counter_t); i++) {
		lc_counter_add(&dst[i], lc_counter_get(&src[i]));
	}
	struct dht_store_stats st;
	dht_store_stats_get(dp_worker_store(w), &st);
	f->st.aors += st.aors;
	f->st.bindings += st.bindings;
	f->st.bytes_used += st.bytes_used;
	f->st.bytes_reserved += st.bytes_reserved;
	f->st.max_bindings += st.max_bindings;
	f->st.expired += st.expired;
	f->st.full += st.full;
	f->st.tombstones += st.tombstones;
	f->st.future += st.future;
	f->st.bounds += st.bounds;
	f->st.key_full += st.key_full;
	const char *const *names;
	const lc_counter_t *values;
	unsigned n = LC_MIN(dp_worker_io_counters(w, &names, &values), IO_MAX);
	for (unsigned i = 0; i < n; i++) {
		f->io[i] += lc_counter_get(&values[i]);
	}
	f->nio = n;
	f->io_names = names;
}

static void put_io(struct ctl_json *o, const struct figures *f)
{
	if (f->nio == 0) {
		return;
	}
	ctl_json_put(o, "\"io\":{");
	for (unsigned i = 0; i < f->nio; i++) {
		ctl_json_put(o, "%s\"%s\":%llu", i ? "," : "", f->io_names[i],
			     (unsigned long long)f->io[i]);
	}
	ctl_json_put(o, "},");
}

static uint64_t get(const lc_counter_t *c)
{
	return lc_counter_get(c);
}

static void put_figures(struct ctl_json *o, const struct figures *f)
{
	const struct dp_stats *s = &f->s;
	ctl_json_put(o, "{\"rx_sip\":%llu,\"rx_lsp\":%llu,\"tx\":%llu,",
		     (unsigned long long)get(&s->rx[0]), (unsigned long long)get(&s->rx[1]),
		     (unsigned long long)get(&s->tx));
	ctl_json_put(o, "\"sip_requests\":{");
	for (int m = 0; m < SIP_METHOD_COUNT_; m++) {
		ctl_json_put(o, "%s\"%s\":%llu", m ? "," : "",
			     m ? sip_method_name((enum sip_method)m) : "other",
			     (unsigned long long)get(&s->sip_req[m]));
	}
	ctl_json_put(o, "},\"sip_responses\":{");
	for (int c = 0; c < DP_CODE_COUNT_; c++) {
		if (dp_code_value[c] != 0) {
			ctl_json_put(o, "%s\"%u\":%llu", c ? "," : "", dp_code_value[c],
				     (unsigned long long)get(&s->sip_resp[c]));
		} else {
			ctl_json_put(o, ",\"other\":%llu",
				     (unsigned long long)get(&s->sip_resp[c]));
		}
	}
	static const char *const lsp_kind[] = {"ping", "publish", "remove", "lookup", "other"};
	ctl_json_put(o, "},\"lsp_requests\":{");
	for (int k = 0; k < 5; k++) {
		ctl_json_put(o, "%s\"%s\":%llu", k ? "," : "", lsp_kind[k],
			     (unsigned long long)get(&s->lsp_req[k]));
	}
	ctl_json_put(o, "},\"lsp_answers_by_class\":{");
	for (int k = 2; k <= 5; k++) {
		ctl_json_put(o, "%s\"%dxx\":%llu", k > 2 ? "," : "", k,
			     (unsigned long long)get(&s->lsp_status[k]));
	}
	ctl_json_put(o, "},\"drops\":{");
	for (int d = 0; d < DP_DROP_COUNT_; d++) {
		ctl_json_put(o, "%s\"%s\":%llu", d ? "," : "", dp_drop_name[d],
			     (unsigned long long)get(&s->drop[d]));
	}
	ctl_json_put(o, "},\"handoff_out\":%llu,\"handoff_in\":%llu,\"ring_overflows\":%llu,",
		     (unsigned long long)get(&s->handoff_out),
		     (unsigned long long)get(&s->handoff_in),
		     (unsigned long long)get(&s->drop[DP_DROP_RING_FULL]));
	ctl_json_put(o,
		     "\"forwarded\":%llu,\"forward_answers\":%llu,\"replica_out\":%llu,"
		     "\"replica_in\":%llu,\"auth_tx\":%llu,\"auth_rx\":%llu,\"auth_parked\":%llu,",
		     (unsigned long long)get(&s->fwd_out), (unsigned long long)get(&s->fwd_answers),
		     (unsigned long long)get(&s->repl_out), (unsigned long long)get(&s->repl_in),
		     (unsigned long long)get(&s->auth_tx), (unsigned long long)get(&s->auth_rx),
		     (unsigned long long)get(&s->auth_parked));
	ctl_json_put(
		o,
		"\"batches_out\":%llu,\"batched_out\":%llu,\"batches_in\":%llu,"
		"\"coalesce_waits\":%llu,",
		(unsigned long long)get(&s->batch_out), (unsigned long long)get(&s->batched_out),
		(unsigned long long)get(&s->batch_in), (unsigned long long)get(&s->coalesce_waits));
	put_io(o, f);
	ctl_json_put(
		o,
		"\"store\":{\"aors\":%llu,\"bindings\":%llu,\"bytes_used\":%llu,\"bytes_reserved\":%llu,"
		"\"max_bindings\":%llu,\"expired\":%llu,\"full\":%llu,\"tombstones\":%llu,"
		"\"future_versions\":%llu,\"out_of_bounds\":%llu,\"key_full\":%llu}}",
		(unsigned long long)f->st.aors, (unsigned long long)f->st.bindings,
		(unsigned long long)f->st.bytes_used, (unsigned long long)f->st.bytes_reserved,
		(unsigned long long)f->st.max_bindings, (unsigned long long)f->st.expired,
		(unsigned long long)f->st.full, (unsigned long long)f->st.tombstones,
		(unsigned long long)f->st.future, (unsigned long long)f->st.bounds,
		(unsigned long long)f->st.key_full);
}

static unsigned long long rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *fp = fopen("/proc/self/statm", "r");
	if (fp != NULL) {
		if (fscanf(fp, "%llu %llu", &size, &resident) != 2) {
			resident = 0;
		}
		fclose(fp);
	}
	return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
}

size_t ctl_stats_json(struct dp_node *n, uint32_t uptime_s, char *buf, size_t cap)
{
	struct ctl_json o = {.buf = buf, .cap = cap};
	struct figures total;
	memset(&total, 0, sizeof(total));
	ctl_json_put(
		&o,
		"{\"uptime_s\":%u,\"workers\":%u,\"rss_bytes\":%llu,\"allocator_resident\":%zu,"
		"\"kernel_ring_drops\":%llu,",
		uptime_s, dp_node_nworkers(n), rss_bytes(), lc_alloc_resident_bytes(),
		(unsigned long long)dp_dpdk_kernel_ring_drops());
	ctl_json_put(&o, "\"per_worker\":[");
	for (unsigned i = 0; i < dp_node_nworkers(n); i++) {
		struct figures f;
		memset(&f, 0, sizeof(f));
		add_worker(&f, dp_node_worker(n, i));
		add_worker(&total, dp_node_worker(n, i));
		ctl_json_put(&o, "%s", i ? "," : "");
		put_figures(&o, &f);
	}
	ctl_json_put(&o, "],\"total\":");
	put_figures(&o, &total);
	ctl_json_put(&o, "}\n");
	return o.overflow ? 0 : o.len;
}
