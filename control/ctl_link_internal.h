/* SPDX-License-Identifier: MIT */
/*
 * Inside the overlay link layer: the instance and its peer and inbound slots (ctl_link.c,
 * ctl_link_in.c) and the per-peer frame queue (ctl_link_queue.c), shared by those files and their
 * unit tests. Not for other modules.
 *
 * A queue is a list of fixed-size chunks holding whole LSP frames back to back, so memory
 * follows the bytes queued (plus at most one chunk) and writev sends straight from the chunks.
 * Frame boundaries are not stored: every frame starts with its LSP header, which says its
 * length, so the queue finds the end of its head frame by reading that header. This is what
 * lets a broken connection drop exactly the unsent rest of a partly-sent frame.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/lc_compiler.h"
#include "control/ctl_link.h"

/* Data bytes per chunk: a chunk and its header fill a 16 KiB allocation. */
#define CTL_LQ_CHUNK (16384 - 16)

/* Owner: the queue it is on, or the pool. */
struct ctl_lq_chunk {
	struct ctl_lq_chunk *next;
	uint32_t start, end; /* unsent data is data[start, end) */
	uint8_t data[CTL_LQ_CHUNK];
};

/* Spare chunks shared by the queues of one ctl_links. Owner: the control thread. */
struct ctl_lq_pool {
	struct ctl_lq_chunk *free;
	unsigned nfree, max_free; /* beyond max_free, released chunks are freed */
};

/* One peer's queue; zero-initialised is empty. Owner: the control thread. */
struct ctl_lq {
	struct ctl_lq_chunk *head, *tail;
	size_t bytes;	    /* queued, counting only the unsent rest of a partly-sent head frame */
	uint32_t frames;    /* frames queued, a partly-sent head frame included */
	uint32_t head_left; /* unsent bytes of the head frame; 0: not known yet (read its header) */
	uint32_t head_sent; /* bytes of the head frame already sent */
};

/**
 * Append a copy of one whole LSP frame (its header's body length must match @p len).
 * @return LC_OK, or LC_ENOMEM with nothing queued.
 */
LC_MUSTCHECK int ctl_lq_push(struct ctl_lq *q, struct ctl_lq_pool *pool, const void *frame,
			     size_t len);

/** Fill up to @p max_iov entries with the queued bytes from the head, at most @p max_bytes in
 * all. @return the number of entries (0 when empty); *bytes is their total. */
int ctl_lq_iov(const struct ctl_lq *q, struct iovec *iov, int max_iov, size_t max_bytes,
	       size_t *bytes);

/** Remove @p n sent bytes (at most q->bytes) from the head. @return frames completed. */
unsigned ctl_lq_consume(struct ctl_lq *q, struct ctl_lq_pool *pool, size_t n);

/** Drop the unsent rest of a partly-sent head frame. @return bytes dropped (0: none was). */
size_t ctl_lq_drop_partial(struct ctl_lq *q, struct ctl_lq_pool *pool);

/** Drop everything (the queue is empty afterwards). */
void ctl_lq_clear(struct ctl_lq *q, struct ctl_lq_pool *pool);

/** Free the pool's spare chunks. */
void ctl_lq_pool_drain(struct ctl_lq_pool *pool);

/* ---- the instance (ctl_link.c, ctl_link_in.c) ---- */

#define CTL_LINK_MAX_SLOTS (1u << 20) /* max_peers and max_inbound: fits the epoll tag */
#define CTL_LINK_NONE UINT32_MAX
#define CTL_LINK_RUN_EVENTS 64 /* ready descriptors handled per run */
#define CTL_LINK_IO_ROUNDS 4   /* reads or writes per descriptor per run */
#define CTL_LINK_WRITE_IOV 64
#define CTL_LINK_WRITE_BYTES (1u << 20) /* per writev */
#define CTL_LINK_ACCEPT_BUDGET 16	/* accepts per run */
#define CTL_LINK_LISTEN_PAUSE_MS 100	/* listener rests this long after EMFILE and the like */
#define CTL_LINK_POOL_SPARE 64		/* spare queue chunks kept (1 MiB) */

/* What an epoll event points at: kind in bits 56-63, slot index in 32-55, generation in 0-31. */
enum ctl_link_tag_kind { CTL_LINK_TAG_LISTEN = 1, CTL_LINK_TAG_OUT, CTL_LINK_TAG_IN };

static inline uint64_t ctl_link_tag(enum ctl_link_tag_kind kind, uint32_t idx, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)(idx & 0xffffffu) << 32 | gen;
}

/* A link's identity (all bytes set, so memcmp compares): the peer's address and the traffic class,
 * so a peer's control and bulk links are two slots. IPv4-mapped IPv6 is stored as IPv4. */
struct ctl_link_key {
	uint8_t family;
	uint8_t cls;   /* enum ctl_link_class */
	uint16_t port; /* host byte order */
	uint32_t scope;
	uint8_t addr[16];
};

enum ctl_link_state {
	CTL_LINK_IDLE,
	CTL_LINK_CONNECTING,
	CTL_LINK_UP,
	CTL_LINK_BACKOFF,
	CTL_LINK_FAILED
};

/* An outgoing link. Owner: the control thread; a slot of ctl_links.peers. */
struct ctl_link_peer {
	struct ctl_link_key key;
	struct sockaddr_storage addr; /* built from key: what connect and callbacks get */
	struct ctl_link_conn conn;    /* fd -1 when not connected */
	struct ctl_lq q;
	uint64_t deadline_ms;  /* CONNECTING: connect timeout; BACKOFF: next attempt */
	uint64_t retry_at_ms;  /* after a failure: no attempt before this */
	uint64_t up_since_ms;  /* UP: when it came up */
	uint64_t last_io_ms;   /* UP: last write (or up): idle close */
	uint64_t last_used_ms; /* last send: eviction order */
	uint64_t frames_out;
	uint32_t failures;   /* consecutive failed or short-lived attempts: the backoff exponent */
	uint32_t fail_total; /* failures since the slot was taken */
	uint32_t gen;	     /* bumped when its connection closes or the slot is freed */
	uint32_t hnext;	     /* hash chain */
	uint32_t events;     /* epoll mask registered; 0: not registered */
	int pending_err;     /* FAILED: the error the next run reports */
	enum ctl_link_state state;
	bool in_use;
	bool down;    /* a failure was reported and no link came up since */
	bool blocked; /* refused with LC_EFULL, waits for on_writable */
};

/* An inbound, receive-only connection. Owner: the control thread; a slot of ctl_links.in. */
struct ctl_link_in {
	struct ctl_link_conn conn;
	struct sockaddr_storage from;
	uint8_t *buf;	     /* rbuf_cap bytes: the unread rest of a partial frame and new data */
	uint32_t len;	     /* bytes in buf */
	uint64_t last_rx_ms; /* last byte received (or accepted): idle close */
	uint64_t opened_ms;  /* accepted: its handshake must end connect_timeout_ms later */
	uint32_t gen;
	uint32_t events;
	bool in_use;
	bool ready;   /* transport handshake done */
	bool bulk;    /* ctl_links_mark_bulk: ctl_links_pause_inbound stops reading it */
	bool pending; /* the transport holds read bytes epoll cannot see: read again by timer */
};

/* Owner: the control thread; everything below is touched by it only. */
struct ctl_links {
	struct ctl_link_cfg cfg;
	const struct ctl_link_ops *ops;
	void *ops_arg;
	struct ctl_link_cbs cbs;
	int epfd;
	int lfd; /* listener, -1 when none */
	struct sockaddr_storage laddr;
	uint32_t lfd_events;
	uint64_t listen_resume_ms; /* paused listener (EMFILE): when to watch it again */

	struct ctl_link_peer *peers; /* max_peers slots */
	uint32_t *free_peers;	     /* stack of free slot indexes */
	uint32_t nfree_peers;
	uint32_t *buckets; /* hash heads, CTL_LINK_NONE when empty */
	uint32_t bucket_mask;

	struct ctl_link_in *in;	    /* max_inbound slots */
	bool in_paused;		    /* ctl_links_pause_inbound: bulk connections are not read */
	struct ctl_link_in *cur_in; /* the connection whose frame on_frame is given, else NULL */
	uint32_t *free_in;
	uint32_t nfree_in;
	size_t rbuf_cap; /* inbound buffer size: max_frame rounded up */

	struct ctl_lq_pool pool;
	uint64_t total_bytes; /* queued over all peers */
	uint32_t nblocked;    /* peers waiting for on_writable */
	uint64_t now_ms;      /* latest ctl_links_run time */
	uint64_t next_due_ms; /* earliest timer; UINT64_MAX: none */
	uint64_t rng;
	struct ctl_link_stats st;
	uint8_t scratch[4096]; /* bytes read from outgoing links, discarded */
};

/* ctl_link.c */
void ctl_link_arm(struct ctl_links *l, uint64_t due_ms);
/** Watch @p c with @p want (0: stop watching), remembering it in *cur. @return LC_OK or -errno. */
int ctl_link_watch(struct ctl_links *l, const struct ctl_link_conn *c, uint64_t tag, uint32_t want,
		   uint32_t *cur);
void ctl_link_unwatch(struct ctl_links *l, const struct ctl_link_conn *c, uint32_t *cur);

/* ctl_link_in.c: the listener and the inbound connections */
int ctl_link_in_alloc(struct ctl_links *l);
void ctl_link_in_free(struct ctl_links *l);
int ctl_link_listen(struct ctl_links *l, const struct sockaddr_storage *addr);
void ctl_link_accept(struct ctl_links *l);
void ctl_link_in_event(struct ctl_links *l, uint32_t idx, uint32_t gen, uint32_t events);
void ctl_link_in_timers(struct ctl_links *l);
uint32_t ctl_link_in_count(const struct ctl_links *l);
void ctl_link_in_recheck(struct ctl_links *l);
