/* SPDX-License-Identifier: MIT */
/*
 * locusd's flag parsing: defaults, every flag's accepted and refused values, --flag=value,
 * domains lists, config files (and their errors with line numbers), and the cross-checks.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_cfg.h"
#include "tests/tap.h"

static char err[512];

static enum ctl_cfg_result parse(struct ctl_cfg *cfg, int argc, const char *const *argv)
{
	ctl_cfg_defaults(cfg);
	return ctl_cfg_parse(cfg, argc, argv, err, sizeof(err));
}

#define PARSE(cfg, ...)                                                                            \
	({                                                                                         \
		const char *const argv_[] = {"locusd", __VA_ARGS__};                               \
		parse((cfg), (int)LC_ARRAY_SIZE(argv_), argv_);                                    \
	})

static void refused(const char *flag, const char *value, const char *needle)
{
	struct ctl_cfg cfg;
	const char *const argv[] = {"locusd", flag, value};
	enum ctl_cfg_result r = parse(&cfg, value ? 3 : 2, argv);
	ok(r == CTL_CFG_ERROR && strstr(err, needle) != NULL, "%s %s refused: %s", flag,
	   value ? value : "", err);
}

int main(void)
{
	plan(42);
	struct ctl_cfg cfg;
	char addr[64];

	const char *const none[] = {"locusd"};
	is_int(parse(&cfg, 1, none), CTL_CFG_RUN, "no flags: run with the defaults");
	ctl_addr_format(&cfg.sip, addr, sizeof(addr));
	is_str(addr, "0.0.0.0:5060", "default --sip");
	ctl_addr_format(&cfg.lsp, addr, sizeof(addr));
	is_str(addr, "0.0.0.0:7400", "default --lsp");
	ok(cfg.min_expires_s == 60 && cfg.max_expires_s == 86400 && cfg.default_expires_s == 3600,
	   "default expiry limits 60 / 86400 / 3600");
	ok(cfg.replicas == 3 && cfg.workers == 0 && cfg.ndomains == 0,
	   "replicas 3, workers auto, any domain");

	is_int(PARSE(&cfg, "--sip", "[::1]:5070", "--lsp=127.0.0.1:0", "--workers", "4"),
	       CTL_CFG_RUN, "IPv6 --sip, --lsp=value form, --workers");
	ctl_addr_format(&cfg.sip, addr, sizeof(addr));
	is_str(addr, "[::1]:5070", "IPv6 address kept");
	is_int(cfg.workers, 4, "workers 4");
	is_int(PARSE(&cfg, "--domain", "Example.COM.,example.org", "--domain", "x.net"),
	       CTL_CFG_RUN, "domain lists");
	ok(cfg.ndomains == 3 && strcmp(cfg.domain[0], "example.com") == 0 &&
		   strcmp(cfg.domain[2], "x.net") == 0,
	   "domains lower-cased, final dot dropped, repeatable");
	is_int(PARSE(&cfg, "--min-expires", "10", "--default-expires", "20", "--max-expires", "30"),
	       CTL_CFG_RUN, "expiry limits");
	ok(cfg.min_expires_s == 10 && cfg.default_expires_s == 20 && cfg.max_expires_s == 30,
	   "expiry limits kept");
	is_int(PARSE(&cfg, "--log-level", "debug"), CTL_CFG_RUN, "log level");
	is_int(cfg.log_level, LC_LOG_DEBUG, "debug");
	is_int(PARSE(&cfg, "--help"), CTL_CFG_HELP, "--help");
	is_int(PARSE(&cfg, "--version"), CTL_CFG_VERSION, "--version");
	ok(strstr(ctl_cfg_usage(), "--max-contacts") != NULL && strstr(ctl_cfg_usage(), "--join"),
	   "--help lists the flags");

	is_int(PARSE(&cfg, "--rx-coalesce-us", "200"), CTL_CFG_RUN, "--rx-coalesce-us 200");
	ok(cfg.rx_coalesce_us == 200, "--rx-coalesce-us kept");
	refused("--rx-coalesce-us", "1001", "--rx-coalesce-us");
	refused("--bogus", "1", "unknown flag --bogus");
	refused("--sip", NULL, "needs a value");
	refused("--sip", "localhost:5060", "not ADDR:PORT");
	refused("--sip", "127.0.0.1:65536", "not ADDR:PORT");
	refused("--sip", "127.0.0.1", "not ADDR:PORT");
	refused("--workers", "0", "from 1 to 64");
	refused("--workers", "65", "from 1 to 64");
	refused("--workers", "-1", "from 1 to 64");
	refused("--workers", "2x", "from 1 to 64");
	refused("--max-contacts", "257", "from 1 to 256");
	refused("--min-expires", "99999999999", "whole number");
	refused("--dataplane", "xdp", "neither sock nor dpdk");
	refused("--log-level", "loud", "not one of");
	refused("--domain", "exa mple.com", "not a domain name");
	refused("--config", "/nonexistent/locus.conf", "cannot open");
	refused("positional", NULL, "unexpected argument");

	is_int(PARSE(&cfg, "--min-expires", "100", "--max-expires", "50"), CTL_CFG_ERROR,
	       "min above max refused");
	is_int(PARSE(&cfg, "--default-expires", "30"), CTL_CFG_ERROR,
	       "default below min refused: %s", err);

	char path[] = "/tmp/locus-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	fprintf(fp, "# a config file\nworkers 3\n  domain = example.com  # trailing comment\n\n"
		    "max-contacts 5\n");
	fclose(fp);
	is_int(PARSE(&cfg, "--config", path, "--workers", "2"), CTL_CFG_RUN, "config file read");
	ok(cfg.workers == 2 && cfg.max_contacts == 5 && cfg.ndomains == 1,
	   "config values apply, and a later flag overrides");
	fp = fopen(path, "w");
	fprintf(fp, "workers 3\nnonsense 1\n");
	fclose(fp);
	is_int(PARSE(&cfg, "--config", path), CTL_CFG_ERROR, "a bad line in a config file");
	ok(strstr(err, "line 2") != NULL && strstr(err, "nonsense") != NULL, "names the line: %s",
	   err);
	unlink(path);
	return exit_status();
}
