/* cli.c: the vgpubench command line: one table of options and one of commands (cli.h), from which getopt_long's
 * options, each command's allowed options and --help are made. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A whole-number option: 0 and *v, or -1 with a message. */
static int int_option(const char *name, const char *text, int lo, int hi, int *v)
{
	char *end;
	long x = strtol(text, &end, 10);

	if (end == text || *end || x < lo || x > hi) {
		fprintf(stderr, "vgpubench: %s takes a whole number from %d to %d, got '%s'\n", name, lo, hi, text);
		return -1;
	}
	*v = (int)x;
	return 0;
}

/* The options, once: getopt_long's table is made from this list. X(name, value, flag, takes a value). */
#define OPTION_LIST(X)                                  \
	X("results", 'r', O_RESULTS, 1)                 \
	X("reports", 'p', O_REPORTS, 1)                 \
	X("resume", 'u', O_RESUME, 1)                   \
	X("format", 'f', O_FORMAT, 1)                   \
	X("out", 'o', O_OUT, 1)                         \
	X("threshold", 't', O_THRESHOLD, 1)             \
	X("baseline-mediator", 'b', O_BASELINE, 1)      \
	X("slowdown", 's', O_SLOWDOWN, 1)               \
	X("rounds", 'n', O_ROUNDS, 1)                   \
	X("separate", 'S', O_SEPARATE, 0)               \
	X("db", 'd', O_DB, 1)                           \
	X("host", 'H', O_HOST, 1)                       \
	X("cross-host", 'X', O_CROSS_HOST, 0)           \
	X("lab", 'L', O_LAB, 0)                         \
	X("plan", 'P', O_PLAN, 1)                       \
	X("since", 'Y', O_SINCE, 1)                     \
	X("help", 'h', O_HELP, 0)

enum {
	O_RESULTS = 1 << 0,
	O_REPORTS = 1 << 1,
	O_RESUME = 1 << 2,
	O_FORMAT = 1 << 3,
	O_OUT = 1 << 4,
	O_THRESHOLD = 1 << 5,
	O_BASELINE = 1 << 6,
	O_SLOWDOWN = 1 << 7,
	O_ROUNDS = 1 << 8,
	O_SEPARATE = 1 << 9,
	O_HELP = 1 << 10,
	O_DB = 1 << 11, /* taken wherever --results is: the database need not be under it */
	O_HOST = 1 << 12,
	O_CROSS_HOST = 1 << 13,
	O_LAB = 1 << 14,
	O_PLAN = 1 << 15,
	O_SINCE = 1 << 16,
};

/*
 * The commands, one row a form: the handler, the options the command takes (the union of its rows), how many
 * positional arguments (at least, at most), the synopsis after "vgpubench", and what it does. --help is made from
 * this table; a command's rows are printed together.
 */
struct command {
	const char *name;
	int (*handler)(const struct cli *c);
	unsigned options;
	int min_pos, max_pos;
	const char *synopsis, *what;
};

static const struct command commands[] = {
	{ "run", run_cmd, O_RESULTS | O_REPORTS, 0, 1, "run [PLAN] [--results DIR] [--reports DIR]",
	  "run a plan (default " DEFAULT_PLAN "), then report it" },
	{ "run", run_cmd, O_BASELINE | O_THRESHOLD, 0, 1, "run [PLAN] --baseline-mediator PATH [--threshold PCT]",
	  "the same, with the mediated rows also run with the vgpu-mediator at PATH, both builds taking turns boot by "
	  "boot, then compared; exits 4 on regressions" },
	{ "run", run_cmd, O_RESUME, 0, 1, "run --resume RUN [--results DIR]", "finish an interrupted run" },
	{ "show", show_cmd, O_RESULTS | O_HOST, 0, 1, "show [RUN] [--host H] [--results DIR]",
	  "print a run's summary table (without RUN: this host's newest run, or H's)" },
	{ "list", list_cmd, O_RESULTS | O_HOST, 0, 0, "list [--host H|all] [--results DIR]",
	  "list the runs in the database: this host's, H's, or every host's" },
	{ "workloads", workloads_cmd, 0, 0, 0, "workloads", "the workload catalogue" },
	{ "doctor", doctor_cmd, 0, 0, 1, "doctor [PLAN]",
	  "what this host can run, and what would fix the rest; exits 0 when PLAN (default: the default plan) can "
	  "run" },
	{ "compare", compare_cmd, O_RESULTS | O_THRESHOLD | O_HOST | O_CROSS_HOST, 1, 2,
	  "compare RUN [BASELINE] [--threshold PCT] [--host H] [--cross-host] [--results DIR]",
	  "RUN against BASELINE (default: the previous run of the same plan on RUN's host, or on H); two hosts' runs "
	  "only with --cross-host; exits 4 on regressions" },
	{ "calibrate", calibrate_cmd, O_SLOWDOWN | O_ROUNDS | O_THRESHOLD | O_SEPARATE | O_RESULTS | O_REPORTS, 0, 1,
	  "calibrate [PLAN] [--slowdown PCT] [--rounds N] [--threshold PCT] [--separate] [--results DIR] [--reports DIR]",
	  "run PLAN twice unchanged and once slowed down by PCT% (default 5), N times (default 1): each row's false "
	  "alarms and detections, stored as a run that show prints; the three take turns in one run (--separate: one "
	  "by one)" },
	{ "calibrate", calibrate_cmd, O_RESUME, 0, 1, "calibrate --resume CALIBRATION [--results DIR] [--reports DIR]",
	  "finish a calibration that was stopped, with its own options" },
	{ "report", report_cmd, O_REPORTS | O_RESULTS | O_HOST, 0, 1,
	  "report [RUN] [--host H] [--reports DIR] [--results DIR]",
	  "HTML report in DIR/RUN/index.html (default reports; without RUN: this host's newest run, or H's)" },
	{ "report", report_cmd, O_LAB, 0, 0, "report --lab [--reports DIR] [--results DIR]",
	  "the lab page, DIR/lab/index.html: every host's latest runs and their headline ratios, hosts that failed "
	  "or stopped marked, each headline metric's trend per host" },
	{ "export", export_cmd, O_FORMAT | O_OUT | O_RESULTS, 1, 1,
	  "export RUN --format json|csv|junit|kcidb [--out FILE] [--results DIR]",
	  "the run as JSON (whole, for import), CSV, JUnit XML or KernelCI's KCIDB v5, to FILE or standard output" },
	{ "trends", trends_cmd, O_RESULTS | O_HOST | O_PLAN | O_SINCE, 0, 0,
	  "trends [--host H|all] [--plan P] [--since YYYY-MM-DD] [--results DIR]",
	  "the change points of every series over the nights (this host's, H's or every host's), newest first; "
	  "exits 4 when a regression starts within a series' newest runs" },
	{ "import", import_cmd, O_RESULTS, 1, 1, "import FILE [--results DIR]",
	  "store a run exported with --format json (from any host or database) in this database, whole or not at "
	  "all; the same run twice changes nothing" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Print text from column `indent` on, wrapped at 110 columns; `col` is where the cursor stands now. */
static void wrapped(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + (int)word > 110) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col < indent) {
			fprintf(f, "%*s", indent - col, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)word, p);
		col += (int)word;
		p += word;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		int col = fprintf(f, "  vgpubench %s", commands[i].synopsis);

		if (col >= 43) { /* no room before the description's column: it starts on the next line */
			fputc('\n', f);
			col = 0;
		}
		wrapped(f, commands[i].what, col, 44);
	}
	fprintf(f, "--db URL, or VGPUBENCH_DB, wherever --results is taken: the results database,\n"
		   "            sqlite:PATH (default DIR/vgpubench.db under --results) or\n"
		   "            postgresql://[USER@]HOST[:PORT]/NAME (any libpq connection string; its\n"
		   "            password from ~/.pgpass, PGPASSFILE or PGPASSWORD, never in the URL)\n");
	fprintf(f, "exit codes: 0 done, 1 could not run, 2 usage, 3 done with failed jobs,\n"
		   "            4 regressions found (compare), 130 interrupted\n");
}

static const struct command *command_named(const char *name, unsigned *options)
{
	const struct command *first = NULL;

	*options = 0;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0) {
			first = first ? first : &commands[i];
			*options |= commands[i].options;
		}
	return first;
}

static unsigned option_flag(int val)
{
	switch (val) {
#define FLAG_OF(name, v, flag, arg) \
	case v:                     \
		return flag;
		OPTION_LIST(FLAG_OF)
#undef FLAG_OF
	}
	return 0;
}

/* One option's value into c. 0, or 2 (a usage error, said). */
static int take_option(unsigned flag, const char *name, const char *v, struct cli *c)
{
	char *end;

	switch (flag) {
	case O_RESULTS:
		c->results = v;
		break;
	case O_REPORTS:
		c->reports = v;
		break;
	case O_RESUME:
		c->resume = v;
		break;
	case O_FORMAT:
		c->format = v;
		break;
	case O_OUT:
		c->out = v;
		break;
	case O_BASELINE:
		c->baseline = v;
		break;
	case O_THRESHOLD:
		c->threshold = strtod(v, &end);
		if (end == v || *end || !(c->threshold >= 0 && c->threshold < 1000)) {
			fprintf(stderr, "vgpubench: --threshold takes a percentage, got '%s'\n", v);
			return 2;
		}
		break;
	case O_SLOWDOWN:
		return int_option("--slowdown", v, 1, 90, &c->cal.slowdown_pct) < 0 ? 2 : 0;
	case O_ROUNDS:
		return int_option("--rounds", v, 1, 20, &c->cal.rounds) < 0 ? 2 : 0;
	case O_SEPARATE:
		c->cal.separate = 1;
		break;
	case O_HOST:
		c->host = v;
		break;
	case O_CROSS_HOST:
		c->cross_host = 1;
		break;
	case O_LAB:
		c->lab = 1;
		break;
	case O_PLAN:
		c->plan = v;
		break;
	case O_SINCE:
		/* A date, or a date and time, as runs' starts are kept (2026-12-07, 2026-12-07T02:00:00Z). */
		if (strlen(v) < 10 || strspn(v, "0123456789") != 4 || v[4] != '-' || v[7] != '-' ||
		    strspn(v + 5, "0123456789") != 2 || strspn(v + 8, "0123456789") < 2) {
			fprintf(stderr, "vgpubench: --since takes a date, YYYY-MM-DD, got '%s'\n", v);
			return 2;
		}
		c->since = v;
		break;
	case O_DB:
		/* The store reads it (store_url), as it does a VGPUBENCH_DB set by the user. */
		if (setenv("VGPUBENCH_DB", v, 1) < 0) {
			fprintf(stderr, "vgpubench: cannot keep --db: out of memory\n");
			return 2;
		}
		break;
	default:
		fprintf(stderr, "vgpubench: --%s is not handled\n", name);
		return 2;
	}
	return 0;
}

/*
 * Parse argv (argv[0] is the command) into c: every option checked against what the command takes (`allowed`),
 * then its positional arguments. 0; 2 for a usage error (said); -1 for --help.
 */
static int parse_args(int argc, char **argv, const struct command *cmd, unsigned allowed, struct cli *c)
{
#define LONG_OPTION(name, v, flag, arg) { name, (arg) ? required_argument : no_argument, NULL, v },
	static const struct option longs[] = { OPTION_LIST(LONG_OPTION){ NULL, 0, NULL, 0 } };
#undef LONG_OPTION
	int opt, li = -1, npos;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", longs, &li)) != -1) {
		unsigned flag = option_flag(opt);
		const char *name = flag && li >= 0 ? longs[li].name : "";

		if (opt == ':') {
			fprintf(stderr, "vgpubench: %s needs a value\n", argv[optind - 1]);
			return 2;
		}
		if (!flag) {
			fprintf(stderr, "vgpubench: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
		if (flag == O_HELP)
			return -1;
		if (!(allowed & flag)) {
			fprintf(stderr, "vgpubench: %s does not take --%s\n", cmd->name, name);
			return 2;
		}
		if (optarg && !optarg[0] && flag != O_THRESHOLD) {
			fprintf(stderr, "vgpubench: --%s needs a value, got an empty one\n", name);
			return 2;
		}
		if (take_option(flag, name, optarg, c))
			return 2;
		li = -1;
	}
	npos = argc - optind;
	if (npos > cmd->max_pos) {
		fprintf(stderr, "vgpubench: unexpected argument '%s'\n", argv[optind + cmd->max_pos]);
		return 2;
	}
	if (npos < cmd->min_pos) {
		usage(stderr);
		return 2;
	}
	c->pos = npos > 0 ? argv[optind] : NULL;
	c->pos2 = npos > 1 ? argv[optind + 1] : NULL;
	return 0;
}

const struct command *cli_parse(int argc, char **argv, struct cli *c, int *rc)
{
	const struct command *cmd;
	unsigned allowed;

	*c = (struct cli){ .results = DEFAULT_RESULTS,
			   .reports = "reports",
			   .threshold = 5.0,
			   .cal = { .slowdown_pct = 5, .rounds = 1 } };
	*rc = 2;
	if (argc < 2) {
		usage(stderr);
		return NULL;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		*rc = 0;
		return NULL;
	}
	c->cmd = argv[1];
	if (!(cmd = command_named(c->cmd, &allowed))) {
		fprintf(stderr, "vgpubench: unknown command '%s'\n", c->cmd);
		usage(stderr);
		return NULL;
	}
	if (allowed & O_RESULTS)
		allowed |= O_DB;
	*rc = parse_args(argc - 1, argv + 1, cmd, allowed | O_HELP, c);
	if (*rc < 0) {
		usage(stdout);
		*rc = 0;
		return NULL;
	}
	return *rc ? NULL : cmd;
}

int cli_run(const struct command *cmd, const struct cli *c)
{
	return cmd->handler(c);
}
