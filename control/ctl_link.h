/* SPDX-License-Identifier: MIT */
/*
 * Overlay links: the node-to-node byte streams that carry LSP messages between locus nodes
 * (docs/overlay.md §2, docs/lsp.md §1). Used by the control thread only: single-threaded,
 * non-blocking, one epoll fd for the control loop to poll.
 *
 * The model, which keeps the protocol layer free of connection management:
 *   - Every node listens on TCP at its LSP address (the port number of its UDP LSP socket).
 *   - A peer is named by its listen address. To send to peer P, a node queues the frame on its
 *     own *outgoing* connection to P, which is opened on demand and reopened after a failure,
 *     with jittered exponential backoff, while frames are queued.
 *   - Inbound connections are receive-only. Every frame received on any of them goes to
 *     on_frame; the protocol layer answers over its own outgoing link to the sender's listen
 *     address, which travels inside the message. So there is exactly one connection per
 *     direction and peer, and never a choice of which one to use.
 *
 * Two traffic classes: a peer has a *control* link (overlay maintenance, digests, answers: small
 * frames whose delay is a false death, docs/overlay.md §4) and, once used, a separate *bulk* link
 * (range transfers: megabytes at the pace the receiver applies them). Each is its own connection
 * with its own queue, so a control frame never waits behind bulk bytes, neither in our queue, nor
 * in the kernel's buffers, nor at a receiver that stopped reading its bulk connections
 * (ctl_links_pause_inbound pauses only connections marked bulk with ctl_links_mark_bulk).
 *
 * Frames are whole LSP messages (a 24-byte header whose body length cuts the stream,
 * dht_lsp_frame_len()). A frame is never split across connections: when a connection breaks in
 * the middle of a frame, the rest of that frame is dropped (counted) and the whole frames behind
 * it go out on the next connection. Delivery is best effort: frames handed to the kernel before a
 * connection broke may be lost; the protocol layer's own timers recover them.
 *
 * Memory is bounded under any input: queued bytes per peer (max_queue_bytes) and in total
 * (max_total_bytes), the number of peers (max_peers) and of inbound connections (max_inbound),
 * each with one receive buffer of at most max_frame bytes. A full queue refuses a frame with
 * LC_EFULL (nothing queued) and on_writable says when to resume: back-pressure reaches the
 * sender instead of growing a queue.
 *
 * The byte stream itself is a pluggable transport (struct ctl_link_ops): plain TCP
 * (ctl_link_tcp_ops, control/ctl_link_tcp.c) for an unsecured lab ring, and TLS 1.3 with mutual
 * certificate authentication (ctl_link_tls_ops, control/ctl_link_tls.c). A TLS connection knows
 * its peer's node id once the handshake admitted it (ctl_link_conn.authed, peer_id): frames carry
 * it to the protocol layer (ctl_links_frame_peer), outgoing links are checked against the id the
 * protocol layer expects at that address (on_link_auth), and links whose peer a reloaded CRL
 * revoked are closed (ctl_links_recheck).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/lc_compiler.h"
#include "dht/dht_key.h"

/* Socket options a transport applies to every connection, outgoing and accepted. */
struct ctl_link_sockopts {
	int keepalive_idle_s;	  /* TCP_KEEPIDLE: idle seconds before the first probe */
	int keepalive_intvl_s;	  /* TCP_KEEPINTVL: seconds between probes */
	int keepalive_cnt;	  /* TCP_KEEPCNT: unanswered probes before the link is dead */
	unsigned user_timeout_ms; /* TCP_USER_TIMEOUT: unacknowledged data older than this kills
				     the link; 0 keeps the kernel's default (minutes) */
	int sndbuf_bytes;	  /* SO_SNDBUF; 0 keeps the kernel's default (autotuned) */
	int rcvbuf_bytes;	  /* SO_RCVBUF; 0 keeps the kernel's default (autotuned) */
};

/*
 * One connection of a transport. Owner: ctl_link (its storage); the transport fills it in
 * connect or accept and empties it in close.
 */
struct ctl_link_conn {
	int fd;		  /* the descriptor ctl_link polls; -1 when closed */
	void *priv;	  /* the transport's per-connection state (NULL for plain TCP) */
	bool authed;	  /* the transport authenticated the peer (TLS): peer_id is its id */
	dht_id_t peer_id; /* the peer's node id, from its certificate */
};

/*
 * A transport: how a link's byte stream is opened, read, written and closed. Owner: static,
 * read-only, one instance per transport. Every function is called on the control thread only,
 * never blocks, and returns LC_OK or a negative errno (-EAGAIN: would block).
 */
struct ctl_link_ops {
	const char *name;
	/**
	 * Start a non-blocking connection to @p peer (borrowed) and fill @p c.
	 * @param arg  the ops_arg given to ctl_links_new (e.g. a TLS context).
	 * @return LC_OK (connection pending: ctl_link calls handshake until it is ready) or a
	 *   negative errno (nothing to close).
	 */
	int (*connect)(void *arg, struct ctl_link_conn *c, const struct sockaddr_storage *peer,
		       const struct ctl_link_sockopts *o);
	/**
	 * Wrap the accepted, non-blocking socket @p fd into @p c. Takes ownership of @p fd: on
	 * failure it is closed. @return LC_OK or a negative errno.
	 */
	int (*accept)(void *arg, struct ctl_link_conn *c, int fd,
		      const struct ctl_link_sockopts *o);
	/**
	 * Advance connection setup (TCP connect, later the TLS handshake).
	 * @param events  on -EAGAIN, set to what to wait for (EPOLLIN and/or EPOLLOUT).
	 * @return LC_OK when the stream is ready for data, -EAGAIN while pending, or a negative
	 *   errno when setup failed (-ECONNREFUSED, -ETIMEDOUT, ...).
	 */
	int (*handshake)(struct ctl_link_conn *c, uint32_t *events);
	/** Read up to @p cap bytes. @return bytes read (> 0), 0 at end of stream, -EAGAIN, or a
	 * negative errno. */
	ssize_t (*read)(struct ctl_link_conn *c, void *buf, size_t cap);
	/** Write from @p iov (borrowed). @return bytes written (> 0), -EAGAIN, or a negative errno.
	 * Must not raise SIGPIPE. */
	ssize_t (*writev)(struct ctl_link_conn *c, const struct iovec *iov, int iovcnt);
	/** Close and release @p c (fd -1 afterwards). A closed conn (fd -1) is a no-op. */
	void (*close)(struct ctl_link_conn *c);
	/** Whether bytes already read from the socket wait inside the transport (epoll does not
	 * see them). NULL: never. */
	bool (*pending)(const struct ctl_link_conn *c);
	/** Whether the established @p c's peer is still admitted (e.g. after a CRL reload).
	 * NULL: always. */
	bool (*recheck)(void *arg, const struct ctl_link_conn *c);
};

/* Plain TCP (control/ctl_link_tcp.c): TCP_NODELAY, keepalives and TCP_USER_TIMEOUT. */
extern const struct ctl_link_ops ctl_link_tcp_ops;

/* TLS 1.3 with mutual authentication (control/ctl_link_tls.c); ops_arg is a struct ctl_tls. */
extern const struct ctl_link_ops ctl_link_tls_ops;

/**
 * Keying material exported from the TLS session of @p c (RFC 8446 section 7.5, no context):
 * both ends of one connection get the same bytes for the same @p label.
 * @return LC_OK, or LC_EINVAL (not a TLS connection, or not authenticated). Context: control.
 */
LC_MUSTCHECK int ctl_link_tls_export(const struct ctl_link_conn *c, const char *label, uint8_t *out,
				     size_t len);

/** Whether @p c is the TLS client end of its connection. Context: control. */
bool ctl_link_tls_is_client(const struct ctl_link_conn *c);

/* Limits and timers. Fill with ctl_link_cfg_defaults(), then change what you need. */
struct ctl_link_cfg {
	/* Queued bytes per peer (default 8 MiB, at least max_frame); a send past it: LC_EFULL. */
	size_t max_queue_bytes;
	/* A peer refused with LC_EFULL gets on_writable once its queue is at or below this
	 * (default 4 MiB; below max_queue_bytes). */
	size_t low_water_bytes;
	/* Queued bytes over all peers (default 128 MiB); refused peers resume at half of it. Bulk
	 * frames may fill only three quarters of it: the rest is kept for control frames. */
	size_t max_total_bytes;
	/* Longest frame sent or accepted (default DHT_LSP_MAX_MSG). */
	size_t max_frame;
	/* Outgoing peers known at once (default 1024); idle ones are forgotten to make room. */
	unsigned max_peers;
	/* Inbound connections at once (default 256); more are accepted and closed. */
	unsigned max_inbound;
	/* Connection setup, TCP connect and (later) TLS handshake (default 3000). */
	unsigned connect_timeout_ms;
	/* Reconnect delays: min * 2^(failures-1) capped at max (defaults 100 and 5000), each
	 * jittered uniformly over [d/2, d]. */
	unsigned backoff_min_ms;
	unsigned backoff_max_ms;
	/* Close an outgoing link idle this long with nothing queued (default 60000; 0: never). */
	unsigned idle_timeout_ms;
	/* Close an inbound connection silent this long (default 180000, above any sender's
	 * idle_timeout_ms so that senders close first; 0: never). */
	unsigned inbound_idle_ms;
	/* Keep inbound connections whose peer the transport authenticated however long they are
	 * silent (a secured node's links carry datagram keys, ctl_keys.h; default false). Others
	 * still close after inbound_idle_ms, and every inbound connection must finish its
	 * handshake within connect_timeout_ms. */
	bool keep_authed_inbound;
	/* Default: keepalive after 2 s idle, 3 probes 1 s apart; user timeout 5000 ms. */
	struct ctl_link_sockopts sock;
	/* Backoff jitter seed; 0: from getrandom(). */
	uint64_t seed;
};

/* Events for the protocol layer. Peer addresses are passed as copies valid during the call. */
struct ctl_link_cbs {
	/**
	 * A whole frame arrived on an inbound connection (dht_lsp_frame_len() framed it; its
	 * content is not checked). @p frame is borrowed for the call. @p from is the connection's
	 * remote address (an ephemeral port: the sender's listen address is inside the message).
	 */
	void (*on_frame)(void *arg, const void *frame, size_t len,
			 const struct sockaddr_storage *from);
	/** The control link to @p peer is established (also after each reconnect). May be
	 * NULL. */
	void (*on_peer_up)(void *arg, const struct sockaddr_storage *peer);
	/**
	 * The control link to @p peer failed: connection refused, reset, timed out, or closed
	 * by the peer while frames were queued. Reported once per failure episode (until the next
	 * on_peer_up). @p reason is a negative errno (-ECONNREFUSED, -ETIMEDOUT, -ECONNRESET,
	 * -EHOSTUNREACH, ...). Queued frames are kept and retried. May be NULL. (A bulk link's
	 * failures are counted, not reported: its user sees its transfer stall.)
	 */
	void (*on_peer_down)(void *arg, const struct sockaddr_storage *peer, int reason);
	/** @p peer refused a frame with LC_EFULL before and now has room again. May be NULL. */
	void (*on_writable)(void *arg, const struct sockaddr_storage *peer);
	/**
	 * A connection authenticated its peer (a TLS handshake admitted it) or closed. @p conn is
	 * borrowed for the call (e.g. to export keys from it); @p peer is the listen address of an
	 * outgoing link's peer, NULL for an inbound connection (whose sender says its address in
	 * its frames). For an outgoing link that comes up, returning false refuses the peer (the
	 * id is not the one expected at that address): the link fails with -EACCES before a byte
	 * is sent. The return value is ignored for inbound connections and when @p up is false.
	 * May be NULL.
	 */
	bool (*on_link_auth)(void *arg, const struct ctl_link_conn *conn,
			     const struct sockaddr_storage *peer, bool up);
	void *arg;
};

/* Counters since ctl_links_new, and gauges. Owner: the control thread writes and reads. */
struct ctl_link_stats {
	uint64_t frames_out, bytes_out; /* whole frames (all bytes) written to outgoing links */
	uint64_t frames_in, bytes_in;	/* frames delivered to on_frame */
	uint64_t send_full;		/* ctl_link_send refused with LC_EFULL */
	uint64_t send_bad;		/* ctl_link_send refused a bad frame or address */
	uint64_t dropped_partial;	/* frames cut by a broken connection and dropped */
	uint64_t dropped_closed;	/* queued frames dropped by ctl_link_close */
	uint64_t connects;		/* outgoing connection attempts */
	uint64_t connected;		/* attempts that succeeded */
	uint64_t connect_failures;	/* attempts that failed (refused, timed out, ...) */
	uint64_t link_failures;		/* established outgoing connections that broke */
	uint64_t peer_down;		/* failure episodes (on_peer_down calls) */
	uint64_t closed_by_peer;	/* outgoing links the peer closed with nothing queued */
	uint64_t idle_closed;		/* outgoing links closed for idleness */
	uint64_t unexpected_bytes;	/* bytes received on outgoing links, discarded */
	uint64_t peers_evicted;		/* idle peers forgotten to make room */
	uint64_t peers_refused;		/* sends refused with LC_EPEERS */
	uint64_t inbound_accepted;	/* inbound connections accepted */
	uint64_t inbound_refused;	/* closed at once: max_inbound reached */
	uint64_t inbound_bad;		/* closed: bad magic or a frame over max_frame */
	uint64_t inbound_closed;	/* closed by the sender or by an error */
	uint64_t inbound_idle_closed;	/* closed after inbound_idle_ms of silence */
	uint32_t peers;			/* gauge: peers known */
	uint32_t peers_up;		/* gauge: outgoing links up */
	uint32_t inbound;		/* gauge: inbound connections */
	uint64_t queued_bytes;		/* gauge: bytes queued over all peers */
};

/* Traffic classes: each is a connection of its own to a peer (see the top of this file). */
enum ctl_link_class { CTL_LINK_CONTROL = 0, CTL_LINK_BULK = 1 };

struct ctl_links;

/** Defaults (see struct ctl_link_cfg). @param cfg  overwritten. Context: any thread. */
void ctl_link_cfg_defaults(struct ctl_link_cfg *cfg);

/**
 * Create the link layer and, when @p listen_addr is not NULL, listen on it (TCP, SO_REUSEADDR,
 * IPV6_V6ONLY for IPv6; port 0 lets the kernel choose, see ctl_links_local_addr).
 * @param out          set to the new instance on success.
 * @param cfg          borrowed; NULL means the defaults.
 * @param listen_addr  borrowed; NULL: no listener (a send-only instance).
 * @param ops          the transport (borrowed, must outlive the instance), e.g. &ctl_link_tcp_ops.
 * @param ops_arg      passed to ops->connect and ops->accept (borrowed).
 * @param cbs          borrowed (copied); on_frame is required.
 * @return LC_OK, LC_EINVAL (bad cfg or callbacks), LC_ENOMEM, or a negative errno from the
 *   listener (-EADDRINUSE, -EADDRNOTAVAIL, -EAFNOSUPPORT, ...).
 * Context: control thread only.
 */
LC_MUSTCHECK int ctl_links_new(struct ctl_links **out, const struct ctl_link_cfg *cfg,
			       const struct sockaddr_storage *listen_addr,
			       const struct ctl_link_ops *ops, void *ops_arg,
			       const struct ctl_link_cbs *cbs);

/** Close every connection and the listener, drop every queue, free. NULL is a no-op. Must not
 * be called from a callback. Context: control thread only. */
void ctl_links_free(struct ctl_links *l);

/** The address the listener is bound to (its real port when 0 was asked).
 * @return LC_OK or LC_ENOTFOUND (no listener). Context: control thread only. */
LC_MUSTCHECK int ctl_links_local_addr(const struct ctl_links *l, struct sockaddr_storage *out);

/** The epoll descriptor to poll for input: readable means "call ctl_links_run". Owned by @p l.
 * Context: control thread only. */
int ctl_links_fd(const struct ctl_links *l);

/**
 * Do the pending work: accept, read and deliver frames, write queues, finish connects, fire due
 * timers (connect timeouts, reconnects, idle closes), and call the callbacks. Never blocks, and
 * does a bounded amount of work per call (at most 64 ready descriptors, a few reads or writes
 * each): anything left keeps ctl_links_fd readable or ctl_links_next_timeout_ms at 0.
 * @param now_ms  a monotonic clock in milliseconds; ctl_link_send uses the latest value seen.
 * Callbacks may call ctl_link_send, ctl_link_queued and ctl_link_close, but not ctl_links_run or
 * ctl_links_free. Context: control thread only.
 */
void ctl_links_run(struct ctl_links *l, uint64_t now_ms);

/** Milliseconds until ctl_links_run has timer work (0: now), or -1 when no timer is armed: the
 * poll timeout of the control loop. Context: control thread only. */
int ctl_links_next_timeout_ms(const struct ctl_links *l, uint64_t now_ms);

/**
 * Queue a copy of one whole frame on the outgoing link to @p peer, connecting if needed (the
 * bytes go out from ctl_links_run). A peer refused with LC_EFULL gets on_writable when it has
 * room again; a later successful send also ends that wait.
 * @param peer   the peer's listen address (borrowed; AF_INET or AF_INET6, port not 0; an
 *               IPv4-mapped IPv6 address names the same peer as its IPv4 form).
 * @param frame  one whole LSP message (borrowed, copied): dht_lsp_frame_len() must give @p len.
 * @return LC_OK (queued), LC_EFULL (queue at its bound: nothing queued), LC_EPEERS (max_peers
 *   reached and none is idle), LC_EMALFORMED (not one whole LSP frame), LC_ETOOLONG (longer than
 *   max_frame), LC_EINVAL (bad address), LC_ENOMEM.
 * Context: control thread only (also from a callback).
 */
LC_MUSTCHECK int ctl_link_send(struct ctl_links *l, const struct sockaddr_storage *peer,
			       const void *frame, size_t len);

/**
 * Open the control link to @p peer (borrowed) if it is not open or opening, with nothing to send:
 * a secured node wants the link for the datagram keys it brings (ctl_keys.h). A link that
 * fails is not retried until something is sent or this is called again.
 * @return LC_OK, LC_EPEERS, LC_EINVAL (bad address), LC_ENOMEM. Context: control.
 */
LC_MUSTCHECK int ctl_link_connect(struct ctl_links *l, const struct sockaddr_storage *peer);

/**
 * ctl_link_send on the peer's bulk link instead: a connection of its own, opened on first use,
 * for frames that come in large runs and may wait (range transfers). Bulk frames may fill three
 * quarters of max_total_bytes at most. Same arguments and return values as ctl_link_send.
 * Context: control thread only (also from a callback).
 */
LC_MUSTCHECK int ctl_link_send_bulk(struct ctl_links *l, const struct sockaddr_storage *peer,
				    const void *frame, size_t len);

/** Bytes queued for @p peer (borrowed) on its control link, 0 when unknown. Context: control
 * thread only. */
size_t ctl_link_queued(const struct ctl_links *l, const struct sockaddr_storage *peer);

/** Bytes queued for @p peer (borrowed) on its bulk link, 0 when unknown. Context: control. */
size_t ctl_link_queued_bulk(const struct ctl_links *l, const struct sockaddr_storage *peer);

/** Whether the control link to @p peer (borrowed) is established. Context: control thread. */
bool ctl_link_is_up(const struct ctl_links *l, const struct sockaddr_storage *peer);

/**
 * Forget @p peer (borrowed): close its outgoing connections, control and bulk, and drop their
 * queues (counted in dropped_closed), without callbacks. A later send starts afresh. Unknown
 * peers are a no-op. Context: control thread only (also from a callback).
 */
void ctl_link_close(struct ctl_links *l, const struct sockaddr_storage *peer);

/**
 * Close @p peer's bulk link only and drop what it queued (a transfer that was given up: its
 * frames must not arrive later). The control link is untouched. Context: control (also from a
 * callback).
 */
void ctl_link_close_bulk(struct ctl_links *l, const struct sockaddr_storage *peer);

/**
 * From on_frame only: the inbound connection that delivered this frame carries bulk traffic, so
 * ctl_links_pause_inbound stops reading it (a sender puts such frames on its bulk link, which
 * carries nothing else). Other connections are always read. Context: control, in on_frame.
 */
void ctl_links_mark_bulk(struct ctl_links *l);

/**
 * Stop (or resume) reading the inbound connections marked bulk: the consumer of their frames is
 * behind (e.g. the workers applying a range transfer), so TCP's own flow control holds the
 * senders back instead of a queue growing here. Control traffic, on other connections, keeps
 * flowing: a node that is busy applying still answers pings. Frames already read are still
 * delivered. Context: control.
 */
void ctl_links_pause_inbound(struct ctl_links *l, bool paused);

/**
 * From on_frame only: whether the connection that delivered this frame authenticated its peer,
 * and its id. False for plain TCP. Context: control, in on_frame.
 */
bool ctl_links_frame_peer(const struct ctl_links *l, dht_id_t *id);

/**
 * Ask the transport whether the peer of every established connection is still admitted (after a
 * CRL reload) and close those that are not (outgoing: a failure, -EACCES; inbound: closed).
 * Context: control (not from a callback).
 */
void ctl_links_recheck(struct ctl_links *l);

/** Copy the counters and gauges into @p out. Context: control thread only. */
void ctl_links_stats_get(const struct ctl_links *l, struct ctl_link_stats *out);

/**
 * Write the counters and one entry per peer (address, state, queued bytes, failures) as one
 * JSON object into @p buf, NUL-terminated. @return its length, or 0 when it did not fit.
 * Context: control thread only.
 */
size_t ctl_links_stats_json(const struct ctl_links *l, char *buf, size_t cap);
