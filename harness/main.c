/* main.c: vgpubench: parse the command line, run the command, make sure its output arrived. The commands and their
 * options are one table (cli.c); what each does is in commands.c. */
#include "cli.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct cli c;
	int rc;
	const struct command *cmd = cli_parse(argc, argv, &c, &rc);

	if (!cmd)
		return rc;
	vb_stdout_track();
	rc = cli_run(cmd, &c);
	/* Whatever went to standard output must have arrived (a full disk, a closed pipe). */
	if (vb_stdout_check() < 0 && (rc == 0 || rc == 3 || rc == 4))
		rc = 1;
	return rc;
}
