/* SPDX-License-Identifier: MIT */
/*
 * Names and texts of LSP message types and status codes (docs/lsp.md §3 and §7), and the status
 * a decode error is answered with. One table each, so the doc, the codec and locusctl's output
 * say the same thing.
 */
#include "common/lc_error.h"
#include "dht/lsp.h"

enum dht_lsp_status dht_lsp_status_of(int err)
{
	switch (err) {
	case LC_OK:
		return DHT_LSP_S_OK;
	case LC_ELSP_VERSION:
		return DHT_LSP_S_VERSION;
	case LC_ELSP_TYPE:
		return DHT_LSP_S_UNKNOWN_TYPE;
	case LC_ELSP_TOO_MANY_RECORDS:
		return DHT_LSP_S_TOO_MANY_RECORDS;
	default:
		return DHT_LSP_S_BAD_REQUEST;
	}
}

const char *dht_lsp_status_text(unsigned status)
{
	switch (status) {
	case DHT_LSP_S_OK:
		return "OK";
	case DHT_LSP_S_REDIRECT:
		return "Redirect";
	case DHT_LSP_S_BAD_REQUEST:
		return "Bad request";
	case DHT_LSP_S_NOT_FOUND:
		return "Not found";
	case DHT_LSP_S_STALE:
		return "Stale CSeq";
	case DHT_LSP_S_WRONG_OVERLAY:
		return "Wrong overlay";
	case DHT_LSP_S_TOO_MANY_RECORDS:
		return "Too many records";
	case DHT_LSP_S_NOT_OWNER:
		return "Not the owner";
	case DHT_LSP_S_INTERVAL_TOO_BRIEF:
		return "Interval too brief";
	case DHT_LSP_S_HOP_LIMIT:
		return "Hop limit exhausted";
	case DHT_LSP_S_INTERNAL:
		return "Internal error";
	case DHT_LSP_S_UNKNOWN_TYPE:
		return "Unknown message type";
	case DHT_LSP_S_UNAVAILABLE:
		return "Write quorum unavailable";
	case DHT_LSP_S_FULL:
		return "Full";
	case DHT_LSP_S_VERSION:
		return "Version not supported";
	default:
		return "Unknown status";
	}
}

const char *dht_lsp_type_name(unsigned type)
{
	switch (type) {
	case DHT_LSP_PING:
		return "PING";
	case DHT_LSP_PUBLISH:
		return "PUBLISH";
	case DHT_LSP_REMOVE:
		return "REMOVE";
	case DHT_LSP_LOOKUP:
		return "LOOKUP";
	case DHT_LSP_JOIN:
		return "JOIN";
	case DHT_LSP_FIND_SUCCESSOR:
		return "FIND_SUCCESSOR";
	case DHT_LSP_GET_PREDECESSOR:
		return "GET_PREDECESSOR";
	case DHT_LSP_NOTIFY:
		return "NOTIFY";
	case DHT_LSP_SUCCESSOR_LIST:
		return "SUCCESSOR_LIST";
	case DHT_LSP_NODE_PING:
		return "NODE_PING";
	case DHT_LSP_MEMBERSHIP:
		return "MEMBERSHIP";
	case DHT_LSP_LEAVE:
		return "LEAVE";
	case DHT_LSP_NODE_INFO:
		return "NODE_INFO";
	case DHT_LSP_REPLICA_STORE:
		return "REPLICA_STORE";
	case DHT_LSP_RANGE_TRANSFER:
		return "RANGE_TRANSFER";
	case DHT_LSP_RANGE_DIGEST:
		return "RANGE_DIGEST";
	default:
		return "?";
	}
}
