/* log.c: the harness's messages (log, warnings, errors), the status line under them, and its stop signals. */
#define _GNU_SOURCE

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

volatile int vb_stop_requested;

/* The status line under the messages (a terminal only), and whether it is on the screen now. */
static char status[160];
static int status_shown;

static int status_tty(void)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDERR_FILENO) == 1;
	return tty;
}

static void status_erase(void)
{
	if (status_shown)
		fputs("\r\033[K", stderr);
	status_shown = 0;
}

static void status_draw(void)
{
	if (!status[0] || !status_tty())
		return;
	fputs(status, stderr);
	fflush(stderr);
	status_shown = 1;
}

void vb_status(const char *text)
{
	snprintf(status, sizeof(status), "%s", text ? text : "");
	status_erase();
	status_draw();
}

/* Every message goes through vb_term_safe: it may quote a plan, a guest's output or a workload's reason. */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL, *safe;

	if (vasprintf(&msg, fmt, ap) < 0) {
		status_erase();
		fputs(prefix, stderr);
		fputs("(a message that could not be formatted)\n", stderr);
		return;
	}
	safe = vb_term_safe_dup(msg);
	status_erase();
	fprintf(stderr, "%s%s\n", prefix, safe);
	status_draw();
	free(safe);
	free(msg);
}

void vb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("vgpubench: warning: ", fmt, ap);
	va_end(ap);
}

void vb_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("vgpubench: ", fmt, ap);
	va_end(ap);
}

void vb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("vgpubench: error: ", fmt, ap);
	va_end(ap);
}

/* The signals whose default action ends the process and that another process sends to end it (not a fault of our
 * own, such as SIGSEGV, and not SIGKILL or SIGSTOP, which nothing can catch). */
static const int stop_signals[] = { SIGINT,  SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
				    SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGIO,   SIGPWR };

/* Signals the harness ignores, so that what they report comes back as an error of the call that caused it: a closed
 * pipe (EPIPE from write) and a file-size limit (EFBIG). */
static const int ignored_signals[] = { SIGPIPE, SIGXFSZ };

void vb_catch_stop_signals(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler }, ign = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
	for (size_t i = 0; i < sizeof(ignored_signals) / sizeof(ignored_signals[0]); i++)
		sigaction(ignored_signals[i], &ign, NULL);
}

void vb_child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Handlers are reset by exec, ignored signals are not: give a child what it would have had. */
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		signal(stop_signals[i], SIG_DFL);
	for (size_t i = 0; i < sizeof(ignored_signals) / sizeof(ignored_signals[0]); i++)
		signal(ignored_signals[i], SIG_DFL);
}
