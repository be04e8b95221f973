/* SPDX-License-Identifier: MIT */
/*
 * Phone models for the corpus generator: one table row per SIP stack, and the shapes of the
 * identifiers (Via branch, tag, Call-ID) each stack writes. The shapes are copied from packet
 * captures and vendor documentation, so that the lengths and character mix the parser scans are
 * those of real traffic, not of a synthetic "z9hG4bK1".
 */
#include <stdio.h>
#include <string.h>

#include "bench/corpus_ua.h"

#define RESIP_ALLOW "INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE"
#define PJ_ALLOW                                                                                   \
	"PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS"

#define POLYCOM_ALLOW                                                                              \
	"INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, MESSAGE, SUBSCRIBE, NOTIFY, PRACK, UPDATE, REFER"
#define YEALINK_ALLOW                                                                              \
	"INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, "     \
	"PUBLISH, UPDATE, MESSAGE"
#define GS_ALLOW                                                                                   \
	"INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE"

const struct ua corpus_uas[] = {
	{
		.name = "linphone",
		.kind = UA_LINPHONE,
		.weight = 18,
		.order_register = "VFTCIMSPOEUZL",
		.order_invite = "VFTCIMSAKOUZL",
		.agents = {"LinphoneAndroid/5.2.5 (Pixel 7) LinphoneSDK/5.3.47 (tags/5.3.47)",
			   "Linphone-Desktop/5.2.6 (Debian GNU/Linux 12 (bookworm), Qt 5.15.8) "
			   "LinphoneCore/5.3.47",
			   "LinphoneiOS/5.2.4 (iPhone) LinphoneSDK/5.3.30"},
		.allow = "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, "
			 "INFO, PRACK, UPDATE",
		.supported = "replaces, outbound, gruu, path",
		.sdp_session = "Talk",
		.auth_sep = ", ",
		.rport = true,
		.to_bare = true,
		.instance = true,
	},
	{
		.name = "zoiper",
		.kind = UA_ZOIPER,
		.weight = 20,
		.order_register = "VMOTFICEASUZWL",
		.order_invite = "VMOTFICAKSUZWL",
		.agents = {"Zoiper v2.10.20.3", "Z 5.6.4 v2.10.20.3", "Zoiper rv2.10.11.2-mod"},
		.allow = RESIP_ALLOW,
		.supported = "replaces, norefersub, extended-refer, timer, outbound, path, "
			     "X-cisco-serviceuri",
		.sdp_session = "Z",
		.auth_sep = ",",
		.rport = true,
		.upper_transport = true,
	},
	{
		.name = "bria",
		.kind = UA_BRIA,
		.weight = 8,
		.order_register = "VMOTFICEASUZWL",
		.order_invite = "VMOTFICAKSUZWL",
		.agents = {"Bria 6 release 6.5.3 stamp 113542",
			   "Bria iOS release 6.17.5 stamp 117112",
			   "Bria Enterprise release 6.8.2 stamp 118902"},
		.allow = RESIP_ALLOW,
		.supported =
			"replaces, norefersub, extended-refer, timer, sec-agree, outbound, path",
		.sdp_session = "Bria 6 release 6.5.3 stamp 113542",
		.auth_sep = ",",
		.rport = true,
		.display = true,
	},
	{
		.name = "polycom",
		.kind = UA_POLYCOM,
		.weight = 14,
		.order_register = "VFTCIOUGZMEL",
		.order_invite = "VFTCIOUGSAWZMXKL",
		.agents = {"PolycomVVX-VVX_411-UA/6.4.3.5156", "PolycomVVX-VVX_450-UA/6.4.6.2442",
			   "PolycomSoundPointIP-SPIP_331-UA/4.0.15.1009"},
		.allow = POLYCOM_ALLOW,
		.supported = "100rel,replaces",
		.sdp_session = "Polycom IP Phone",
		.auth_sep = ", ",
		.display = true,
		.instance = true,
	},
	{
		.name = "yealink",
		.kind = UA_YEALINK,
		.weight = 16,
		.order_register = "VFTICOZAMUEWL",
		.order_invite = "VFTICOZSAMUXYKWL",
		.agents = {"Yealink SIP-T46S 66.86.0.15", "Yealink SIP-T54W 96.86.0.100",
			   "Yealink W60B 77.85.0.20"},
		.allow = YEALINK_ALLOW,
		.supported = "replaces, timer",
		.sdp_session = "SDP data",
		.auth_sep = ", ",
		.display = true,
		.ruri_port = true,
		.port = 5062,
	},
	{
		.name = "grandstream",
		.kind = UA_GRANDSTREAM,
		.weight = 12,
		.order_register = "VFTICOZMUSAEL",
		.order_invite = "VFTICOZMUYPSAXKL",
		.agents = {"Grandstream GXP2170 1.0.11.64", "Grandstream HT801 1.0.43.11",
			   "Grandstream GRP2614 1.0.5.67"},
		.allow = GS_ALLOW,
		.supported = "replaces, path, timer, eventlist",
		.sdp_session = "SIP Call",
		.auth_sep = ", ",
		.rport = true,
		.display = true,
		.instance = true,
		.port = 5060,
	},
	{
		.name = "microsip",
		.kind = UA_PJSIP,
		.weight = 8,
		.order_register = "VMFTICUOEAZL",
		.order_invite = "VMFTICUOASZKL",
		.agents = {"MicroSIP/3.21.3", "MicroSIP/3.21.4", "MicroSIP/3.20.7"},
		.allow = PJ_ALLOW,
		.supported = "replaces, 100rel, timer, norefersub",
		.sdp_session = "pjmedia",
		.auth_sep = ", ",
		.rport_first = true,
		.rport = true,
		.port = 5060,
	},
	{
		/* pjsua built with PJSIP_ENCODE_SHORT_HNAME, as constrained mobile stacks do */
		.name = "pjsua-compact",
		.kind = UA_PJSIP,
		.weight = 4,
		.order_register = "VMFTICUOEAZL",
		.order_invite = "VMFTICUOASZKL",
		.agents = {"PJSUA v2.13 Linux-6.1.0/x86_64/glibc-2.36",
			   "PJSUA v2.14.1 Linux-6.6.0/aarch64/glibc-2.38",
			   "PJSUA v2.13 Darwin-23.1/arm64"},
		.allow = PJ_ALLOW,
		.supported = "replaces, 100rel, timer, norefersub",
		.sdp_session = "pjmedia",
		.auth_sep = ", ",
		.rport_first = true,
		.rport = true,
		.instance = true,
		.compact = true,
	},
};

const size_t corpus_nuas = sizeof(corpus_uas) / sizeof(corpus_uas[0]);

const struct ua *corpus_ua_pick(struct bench_prng *r)
{
	uint32_t total = 0;
	for (size_t i = 0; i < corpus_nuas; i++) {
		total += corpus_uas[i].weight;
	}
	uint32_t x = bench_prng_below(r, total);
	for (size_t i = 0; i < corpus_nuas; i++) {
		if (x < corpus_uas[i].weight) {
			return &corpus_uas[i];
		}
		x -= corpus_uas[i].weight;
	}
	return &corpus_uas[0];
}

void corpus_chars(struct bench_prng *r, char *out, size_t n, const char *set)
{
	size_t k = strlen(set);
	for (size_t i = 0; i < n; i++) {
		out[i] = set[bench_prng_below(r, (uint32_t)k)];
	}
	out[n] = '\0';
}

void corpus_uuid(struct bench_prng *r, bool upper, char *out, size_t cap)
{
	const char *set = upper ? CORPUS_HEXU : CORPUS_HEXL;
	char h[33];
	corpus_chars(r, h, 32, set);
	snprintf(out, cap, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

void corpus_branch(struct bench_prng *r, uint8_t kind, char *out, size_t cap)
{
	char s[40];
	switch (kind) {
	case UA_LINPHONE:
		corpus_chars(r, s, 9, CORPUS_ALNUM);
		snprintf(out, cap, "z9hG4bK.%s", s);
		break;
	case UA_ZOIPER:
	case UA_BRIA:
		/* reSIProcate: a fixed "-524287-1---" cookie, then 16 hex digits */
		corpus_chars(r, s, 16, CORPUS_HEXL);
		snprintf(out, cap, "z9hG4bK-524287-1---%s", s);
		break;
	case UA_POLYCOM:
		corpus_chars(r, s, 8, CORPUS_HEXL);
		corpus_chars(r, s + 8, 8, CORPUS_HEXU);
		snprintf(out, cap, "z9hG4bK%s", s);
		break;
	case UA_YEALINK:
	case UA_GRANDSTREAM:
		snprintf(out, cap, "z9hG4bK%u",
			 (unsigned)bench_prng_range(r, 100000000, 0xfffffffeu));
		break;
	default:
		corpus_uuid(r, false, s, sizeof(s));
		snprintf(out, cap, "z9hG4bKPj%s", s);
		break;
	}
}

/* Proxies on the way: Kamailio (stateful and stateless), OpenSIPS, an SBC. */
void corpus_proxy_branch(struct bench_prng *r, char *out, size_t cap)
{
	char a[40], b[40];
	switch (bench_prng_below(r, 4)) {
	case 0:
		corpus_chars(r, a, 4, CORPUS_HEXL);
		corpus_chars(r, b, 32, CORPUS_HEXL);
		snprintf(out, cap, "z9hG4bK%s.%s.0", a, b);
		break;
	case 1:
		corpus_chars(r, a, 8, CORPUS_HEXL);
		snprintf(out, cap, "z9hG4bK%s.0", a);
		break;
	case 2:
		corpus_chars(r, a, 10, CORPUS_ALNUM);
		snprintf(out, cap, "z9hG4bK%s", a);
		break;
	default:
		corpus_chars(r, a, 24, CORPUS_HEXL);
		snprintf(out, cap, "z9hG4bK-%s-sbc", a);
		break;
	}
}

void corpus_tag(struct bench_prng *r, uint8_t kind, char *out, size_t cap)
{
	char s[40];
	switch (kind) {
	case UA_LINPHONE:
		corpus_chars(r, s, 9, CORPUS_ALNUM "~");
		snprintf(out, cap, "%s", s);
		break;
	case UA_ZOIPER:
	case UA_BRIA:
		corpus_chars(r, s, 8, CORPUS_HEXL);
		snprintf(out, cap, "%s", s);
		break;
	case UA_POLYCOM:
		corpus_chars(r, s, 16, CORPUS_HEXU);
		snprintf(out, cap, "%.8s-%.8s", s, s + 8);
		break;
	case UA_YEALINK:
	case UA_GRANDSTREAM:
		snprintf(out, cap, "%u", (unsigned)bench_prng_range(r, 100000000, 0xfffffffeu));
		break;
	default:
		corpus_chars(r, s, 32, CORPUS_HEXL);
		snprintf(out, cap, "%s", s);
		break;
	}
}

/* Grandstream writes its IP address into the Call-ID host with digits as letters A-J. */
static void gs_letters(const char *ip, char *out, size_t cap)
{
	size_t n = 0;
	for (; *ip != '\0' && n + 1 < cap; ip++) {
		out[n++] = (*ip >= '0' && *ip <= '9') ? (char)('A' + (*ip - '0')) : *ip;
	}
	out[n] = '\0';
}

void corpus_callid(struct bench_prng *r, uint8_t kind, const char *ip, char *out, size_t cap)
{
	char s[48], h[48];
	switch (kind) {
	case UA_LINPHONE:
		corpus_chars(r, s, 10, CORPUS_ALNUM);
		snprintf(out, cap, "%s", s);
		break;
	case UA_ZOIPER:
	case UA_BRIA:
		/* base64 of a hex digest, without padding */
		corpus_chars(r, s, 43, CORPUS_ALNUM);
		snprintf(out, cap, "%s", s);
		break;
	case UA_POLYCOM:
		corpus_chars(r, s, 24, CORPUS_HEXL);
		snprintf(out, cap, "%.8s-%.8s-%.8s@%s", s, s + 8, s + 16, ip);
		break;
	case UA_YEALINK:
		snprintf(out, cap, "0_%u@%s", (unsigned)bench_prng_range(r, 1000000, 0xfffffffeu),
			 ip);
		break;
	case UA_GRANDSTREAM:
		gs_letters(ip, h, sizeof(h));
		snprintf(out, cap, "%u-5060-%u@%s",
			 (unsigned)bench_prng_range(r, 100000000, 0x7fffffff),
			 (unsigned)bench_prng_range(r, 1, 40), h);
		break;
	default:
		corpus_uuid(r, false, s, sizeof(s));
		snprintf(out, cap, "%s", s);
		break;
	}
}
