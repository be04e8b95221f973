/* SPDX-License-Identifier: MIT */
/*
 * Named single messages for the parser benchmark (--message NAME): REGISTERs as one phone sends
 * them, written out byte for byte, so that "how long does a typical REGISTER take" is a figure
 * anyone can reproduce with one command instead of a throwaway harness. Each is timed parsed over
 * and over in a warm loop, which is the best case (caches and branch predictors trained on it);
 * the generated corpus gives the mixed-traffic figure.
 */
#include <string.h>

#include "bench/bench_named.h"

/* RFC 3261 §24.1, the textbook REGISTER: one Via, one Contact, Expires. */
#define MSG_RFC3261                                                                                \
	"REGISTER sip:registrar.biloxi.com SIP/2.0\r\n"                                            \
	"Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n"                        \
	"Max-Forwards: 70\r\n"                                                                     \
	"To: Bob <sip:bob@biloxi.com>\r\n"                                                         \
	"From: Bob <sip:bob@biloxi.com>;tag=456248\r\n"                                            \
	"Call-ID: 843817637684230@998sdasdh09\r\n"                                                 \
	"CSeq: 1826 REGISTER\r\n"                                                                  \
	"Contact: <sip:bob@192.0.2.4>\r\n"                                                         \
	"Expires: 7200\r\n"                                                                        \
	"Content-Length: 0\r\n"                                                                    \
	"\r\n"

/*
 * Linphone (liblinphone 5.3) registering over UDP, straight from the phone: rport, its Supported
 * list, two Accept fields, an RFC 5626 Contact with +sip.instance and reg-id, its User-Agent.
 */
#define MSG_LINPHONE                                                                               \
	"REGISTER sip:sip.example.org SIP/2.0\r\n"                                                 \
	"Via: SIP/2.0/UDP 192.168.1.23:5060;branch=z9hG4bK.PJtcw~Xz2;rport\r\n"                    \
	"From: <sip:alice@sip.example.org>;tag=Xy7Zq9W2v\r\n"                                      \
	"To: sip:alice@sip.example.org\r\n"                                                        \
	"CSeq: 20 REGISTER\r\n"                                                                    \
	"Call-ID: mK4pQ8sT2u\r\n"                                                                  \
	"Max-Forwards: 70\r\n"                                                                     \
	"Supported: replaces, outbound, gruu, path\r\n"                                            \
	"Accept: application/sdp\r\n"                                                              \
	"Accept: text/plain\r\n"                                                                   \
	"Contact: <sip:alice@192.168.1.23:5060;transport=udp>;"                                    \
	"+sip.instance=\"<urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301>\";reg-id=1\r\n"           \
	"Expires: 3600\r\n"                                                                        \
	"User-Agent: LinphoneAndroid/5.2.5 (Pixel 7) LinphoneSDK/5.3.47 (tags/5.3.47)\r\n"         \
	"Content-Length: 0\r\n"                                                                    \
	"\r\n"

/*
 * A Yealink desk phone answering a 401: display names, ports everywhere, digest credentials with
 * qop=auth (the second REGISTER of every registration), Allow.
 */
#define MSG_YEALINK_AUTH                                                                           \
	"REGISTER sip:pbx.example.com:5060 SIP/2.0\r\n"                                            \
	"Via: SIP/2.0/UDP 192.168.1.45:5062;branch=z9hG4bK1847392015;rport\r\n"                    \
	"From: \"Alice\" <sip:1001@pbx.example.com:5060>;tag=2841772920\r\n"                       \
	"To: \"Alice\" <sip:1001@pbx.example.com:5060>\r\n"                                        \
	"Call-ID: 1948302746@192.168.1.45\r\n"                                                     \
	"CSeq: 2 REGISTER\r\n"                                                                     \
	"Contact: <sip:1001@192.168.1.45:5062>\r\n"                                                \
	"Authorization: Digest username=\"1001\", realm=\"pbx.example.com\", "                     \
	"nonce=\"5f3c1a7e2b9d4c80a1e6f2d3b4c5a697\", uri=\"sip:pbx.example.com:5060\", "           \
	"response=\"0a1b2c3d4e5f60718293a4b5c6d7e8f9\", algorithm=MD5, cnonce=\"0a4f113b\", "      \
	"qop=auth, nc=00000001\r\n"                                                                \
	"Max-Forwards: 70\r\n"                                                                     \
	"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"                                              \
	"Expires: 3600\r\n"                                                                        \
	"Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, "     \
	"REFER, PUBLISH, UPDATE, MESSAGE\r\n"                                                      \
	"Content-Length: 0\r\n"                                                                    \
	"\r\n"

const struct bench_named bench_named_msgs[] = {
	{"rfc3261", "RFC 3261 §24.1 REGISTER", MSG_RFC3261, sizeof(MSG_RFC3261) - 1},
	{"linphone", "Linphone REGISTER (+sip.instance, reg-id)", MSG_LINPHONE,
	 sizeof(MSG_LINPHONE) - 1},
	{"yealink-auth", "Yealink REGISTER with digest credentials", MSG_YEALINK_AUTH,
	 sizeof(MSG_YEALINK_AUTH) - 1},
};

const size_t bench_named_count = sizeof(bench_named_msgs) / sizeof(bench_named_msgs[0]);

const struct bench_named *bench_named_find(const char *name)
{
	for (size_t i = 0; i < bench_named_count; i++) {
		if (strcmp(bench_named_msgs[i].name, name) == 0) {
			return &bench_named_msgs[i];
		}
	}
	return NULL;
}
