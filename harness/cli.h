/* cli.h: the vgpubench command line as data: what the user asked for (struct cli), and the commands, one table
 * (name, handler, options, positional arguments, synopsis, description) from which the parser and --help are
 * made. The handlers are in commands.c. */
#ifndef VGPUBENCH_CLI_H
#define VGPUBENCH_CLI_H

#include "run/calibrate.h"

#define DEFAULT_PLAN "harness/plans/default.ini"
#define DEFAULT_RESULTS "results"

/* Everything the command line gave, for the command's handler. */
struct cli {
	const char *cmd, *results, *reports, *resume, *pos, *pos2, *format, *out, *baseline;
	const char *host; /* --host: list's and compare's host (NULL: this host; "all" for list) */
	int cross_host;   /* --cross-host: compare may take a baseline from another host */
	int lab;          /* --lab: report the whole database (the lab page), not one run */
	const char *plan, *since; /* trends' --plan and --since */
	double threshold;
	struct calibrate_opts cal;
};

/* Parse argv into c. The command to run, or NULL when there is nothing to run: *rc is then 0 (help was printed)
 * or 2 (a usage error, said). */
const struct command *cli_parse(int argc, char **argv, struct cli *c, int *rc);
/* Run the command's handler: its exit code. */
int cli_run(const struct command *cmd, const struct cli *c);

/* The handlers (commands.c), one per command. */
int run_cmd(const struct cli *c);
int calibrate_cmd(const struct cli *c);
int doctor_cmd(const struct cli *c);
int list_cmd(const struct cli *c);
int workloads_cmd(const struct cli *c);
int show_cmd(const struct cli *c);
int report_cmd(const struct cli *c);
int export_cmd(const struct cli *c);
int import_cmd(const struct cli *c);
int trends_cmd(const struct cli *c);
int compare_cmd(const struct cli *c);

#endif
