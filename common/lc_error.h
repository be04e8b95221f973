/* SPDX-License-Identifier: MIT */
/*
 * Error codes shared by every locus module. A function that can fail returns LC_OK (0) or one of
 * these negative codes. Codes that mean the same as an errno value reuse it; project codes start at
 * -1000. The SIP parser's codes live here too (-1100 and down), and the LSP codec's (-1200 and
 * down, dht/lsp.h), so that one lc_strerror() names every error and no module needs another's
 * header to print a code. Each SIP code is precise enough to become the reason phrase of a 400
 * response ("Bad CSeq", "Missing Call-ID"); each LSP code travels in an LSP error answer.
 */
#pragma once

#include <errno.h>

/*
 * X(name, value, text). The text is short and fit for a SIP reason phrase: registrars put it
 * after "400 " verbatim, so it is printable ASCII without CR or LF.
 */
#define LC_ERRORS(X)                                                                               \
	X(LC_OK, 0, "OK")                                                                          \
	X(LC_ENOMEM, -ENOMEM, "Out of memory")                                                     \
	X(LC_EINVAL, -EINVAL, "Invalid argument")                                                  \
	X(LC_ENOTSUP, -ENOTSUP, "Not supported")                                                   \
	X(LC_EMALFORMED, -1000, "Malformed input")                                                 \
	X(LC_ENOSPACE, -1001, "Output buffer too small")                                           \
	X(LC_ENOTOWNER, -1002, "Not the owner of the key")                                         \
	X(LC_ENOTFOUND, -1003, "Not found")                                                        \
	X(LC_EFULL, -1004, "Store full")                                                           \
	X(LC_ETOOLONG, -1005, "Value too long")                                                    \
	X(LC_EPEERS, -1006, "Too many peers")                                                      \
	X(LC_ESTALE, -1007, "Version not newer than the stored one")                               \
	X(LC_EFUTURE, -1008, "Version ahead of the clock bound")                                   \
	/* SIP framing and start line */                                                           \
	X(LC_ESIP_EMPTY, -1100, "Empty message")                                                   \
	X(LC_ESIP_TOO_BIG, -1101, "Message too large")                                             \
	X(LC_ESIP_NO_END, -1102, "Header section not terminated")                                  \
	X(LC_ESIP_LINE_TOO_LONG, -1103, "Header line too long")                                    \
	X(LC_ESIP_START_LINE, -1104, "Malformed start line")                                       \
	X(LC_ESIP_METHOD, -1105, "Malformed method")                                               \
	X(LC_ESIP_RURI, -1106, "Malformed Request-URI")                                            \
	X(LC_ESIP_VERSION, -1107, "Version Not Supported")                                         \
	X(LC_ESIP_STATUS, -1108, "Malformed status code")                                          \
	/* header section */                                                                       \
	X(LC_ESIP_HDR_NAME, -1120, "Malformed header name")                                        \
	X(LC_ESIP_TOO_MANY_HEADERS, -1121, "Too many header fields")                               \
	X(LC_ESIP_TOO_MANY_VIAS, -1122, "Too many Via values")                                     \
	X(LC_ESIP_TOO_MANY_CONTACTS, -1123, "Too many Contact values")                             \
	X(LC_ESIP_TOO_MANY_ROUTES, -1124, "Too many Route, Record-Route or Path values")           \
	X(LC_ESIP_TOO_MANY_TAGS, -1125, "Too many option tags")                                    \
	X(LC_ESIP_TOO_MANY_PARAMS, -1126, "Too many parameters")                                   \
	X(LC_ESIP_TOO_MANY_AUTH, -1127, "Too many credentials")                                    \
	X(LC_ESIP_DUP_HEADER, -1128, "Single-valued header field repeated")                        \
	/* one code per parsed header field */                                                     \
	X(LC_ESIP_VIA, -1140, "Bad Via")                                                           \
	X(LC_ESIP_FROM, -1141, "Bad From")                                                         \
	X(LC_ESIP_TO, -1142, "Bad To")                                                             \
	X(LC_ESIP_CALL_ID, -1143, "Bad Call-ID")                                                   \
	X(LC_ESIP_CSEQ, -1144, "Bad CSeq")                                                         \
	X(LC_ESIP_MAX_FORWARDS, -1145, "Bad Max-Forwards")                                         \
	X(LC_ESIP_CONTACT, -1146, "Bad Contact")                                                   \
	X(LC_ESIP_EXPIRES, -1147, "Bad Expires")                                                   \
	X(LC_ESIP_MIN_EXPIRES, -1148, "Bad Min-Expires")                                           \
	X(LC_ESIP_CONTENT_LENGTH, -1149, "Bad Content-Length")                                     \
	X(LC_ESIP_ROUTE, -1150, "Bad Route")                                                       \
	X(LC_ESIP_RECORD_ROUTE, -1151, "Bad Record-Route")                                         \
	X(LC_ESIP_PATH, -1152, "Bad Path")                                                         \
	X(LC_ESIP_OPTION_TAG, -1153, "Bad option tag list")                                        \
	X(LC_ESIP_AUTH, -1154, "Bad credentials")                                                  \
	X(LC_ESIP_USER_AGENT, -1155, "Bad User-Agent")                                             \
	X(LC_ESIP_DATE, -1156, "Bad Date")                                                         \
	X(LC_ESIP_CONTENT_TYPE, -1157, "Bad Content-Type")                                         \
	/* message-level consistency */                                                            \
	X(LC_ESIP_MISSING_VIA, -1170, "Missing Via")                                               \
	X(LC_ESIP_MISSING_FROM, -1171, "Missing From")                                             \
	X(LC_ESIP_MISSING_TO, -1172, "Missing To")                                                 \
	X(LC_ESIP_MISSING_CALL_ID, -1173, "Missing Call-ID")                                       \
	X(LC_ESIP_MISSING_CSEQ, -1174, "Missing CSeq")                                             \
	X(LC_ESIP_CSEQ_METHOD, -1175, "CSeq method does not match request method")                 \
	X(LC_ESIP_BODY_SHORT, -1176, "Body shorter than Content-Length")                           \
	/* response builder */                                                                     \
	X(LC_ESIP_RESP_STATE, -1190, "Response builder used out of order")                         \
	/* LSP header (docs/lsp.md) */                                                             \
	X(LC_ELSP_SHORT, -1200, "Shorter than the LSP header")                                     \
	X(LC_ELSP_MAGIC, -1201, "Bad LSP magic")                                                   \
	X(LC_ELSP_VERSION, -1202, "LSP version not supported")                                     \
	X(LC_ELSP_TOO_BIG, -1203, "LSP message too large")                                         \
	X(LC_ELSP_TRUNCATED, -1204, "LSP body shorter than its length")                            \
	X(LC_ELSP_TRAILING, -1205, "Bytes after the LSP body")                                     \
	X(LC_ELSP_TYPE, -1206, "Unknown LSP message type")                                         \
	X(LC_ELSP_OVERLAY, -1207, "LSP message of another overlay")                                \
	/* LSP TLVs */                                                                             \
	X(LC_ELSP_TLV_SHORT, -1220, "TLV header overruns its container")                           \
	X(LC_ELSP_TLV_OVERRUN, -1221, "TLV value overruns its container")                          \
	X(LC_ELSP_TLV_UNKNOWN, -1222, "Unknown mandatory TLV")                                     \
	X(LC_ELSP_TLV_DUP, -1223, "Single-valued TLV repeated")                                    \
	X(LC_ELSP_TLV_LENGTH, -1224, "Bad TLV length for its type")                                \
	X(LC_ELSP_TOO_LONG, -1225, "TLV value longer than its limit")                              \
	/* LSP message-level consistency */                                                        \
	X(LC_ELSP_MISSING_KEY, -1240, "Missing key")                                               \
	X(LC_ELSP_KEY, -1241, "Key empty or too long")                                             \
	X(LC_ELSP_TOO_MANY_RECORDS, -1242, "Too many records")                                     \
	X(LC_ELSP_MISSING_CONTACT, -1243, "Record without contact")                                \
	X(LC_ELSP_Q, -1244, "q above 1000")                                                        \
	X(LC_ELSP_SOURCE, -1245, "Bad address")                                                    \
	X(LC_ELSP_REMOVE, -1246, "Remove needs either all or contacts")                            \
	X(LC_ELSP_MISSING_STATUS, -1247, "Answer without status")                                  \
	/* LSP overlay and replication messages (docs/lsp.md section 11) */                        \
	X(LC_ELSP_MISSING_TLV, -1248, "Missing required TLV")                                      \
	X(LC_ELSP_TOO_MANY_PEERS, -1249, "Too many peers")                                         \
	X(LC_ELSP_TOO_MANY_MEMBERS, -1250, "Too many members")                                     \
	X(LC_ELSP_MEMBER, -1251, "Bad member state")                                               \
	X(LC_ELSP_ENTRY, -1252, "Entry without key or version")                                    \
	X(LC_ELSP_CHAIN, -1253, "Bad replication chain")                                           \
	X(LC_ELSP_SYNC_MODE, -1254, "Bad sync mode")                                               \
	X(LC_ELSP_BUCKETS, -1255, "Bad bucket count")                                              \
	X(LC_ELSP_PAGE, -1256, "Bad page")                                                         \
	X(LC_ELSP_REMOVED, -1257, "Bad removal in a record")                                       \
	/* LSP builder */                                                                          \
	X(LC_ELSP_BUILD_STATE, -1260, "LSP builder used out of order")

enum lc_error {
#define LC_ERROR_ENUM(name, value, text) name = (value),
	LC_ERRORS(LC_ERROR_ENUM)
#undef LC_ERROR_ENUM
};

/**
 * Text for an error code: short, printable ASCII, usable as a SIP reason phrase.
 * @param err  LC_OK or a negative LC_E* code.
 * @return a static string; "Unknown error" for a code not in the table. Never NULL.
 * Context: any thread.
 */
const char *lc_strerror(int err);

/**
 * The code's symbolic name ("LC_ESIP_CSEQ"), for tests and logs.
 * @return a static string; "LC_E?" for a code not in the table. Never NULL.
 * Context: any thread.
 */
const char *lc_strerror_name(int err);
