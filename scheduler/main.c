/*
 * main.c - vetred-scheduler: the outbox relay (relay.c), with its
 * monitoring listener (monitor.c).  Runs until SIGTERM or SIGINT, then
 * finishes the batch in flight, releases the lease and returns from
 * main.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scheduler.h"

/* Written by the signal handler, read by the relay. */
static volatile sig_atomic_t stopping;
static int wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	stopping = 1;
	if (wake_pipe[1] >= 0)
		(void)!write(wake_pipe[1], "x", 1);
	errno = saved;
}

static int
install_signals(void)
{
	struct sigaction sa;
	int i;

	if (pipe(wake_pipe) != 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (fcntl(wake_pipe[i], F_SETFL, O_NONBLOCK) != 0 ||
		    fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC) != 0)
			return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static const char usage[] =
    "usage: vetred-scheduler\n"
    "Publishes the outbox to RabbitMQ (one relay at a time, by lease).\n"
    "Configuration from VETRED_* environment variables (see the README);\n"
    "runs until SIGTERM or SIGINT.\n";

int
main(int argc, char **argv)
{
	struct vr_config cfg;
	struct sched_config sc;
	struct sched_stats st;
	struct sched_relay relay;
	struct sched_monitor mon;
	char err[256], host[64];
	int rc;

	if (argc > 1) {
		if ((rc = vr_cli_options(argc, argv, "vetred-scheduler", usage,
		    NULL)) < 0) {
			fprintf(stderr, "vetred-scheduler: takes no arguments\n%s",
			    usage);
			rc = 2;
		}
		return rc;
	}
	if (vr_config_load(&cfg, err, sizeof(err)) < 0 ||
	    sched_config_load(&sc, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	vr_log_init("scheduler", cfg.log_level);
	if (vr_log_rotation(cfg.log_file, cfg.log_max_bytes) < 0)
		vr_log(VR_LOG_WARN, NULL, "log file not used: stderr closed "
		    "or the file cannot be opened", NULL);
	if (install_signals() != 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot set up signals", "error",
		    strerror(errno), NULL);
		return 1;
	}
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	memset(&relay, 0, sizeof(relay));
	relay.cfg = &cfg;
	relay.sc = &sc;
	relay.st = &st;
	relay.stopping = &stopping;
	relay.wake_fd = wake_pipe[0];
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(relay.holder, sizeof(relay.holder), "%s@%s:%ld:%lld",
	    sc.instance, host, (long)getpid(), (long long)time(NULL));

	memset(&mon, 0, sizeof(mon));
	mon.cfg = &cfg;
	mon.sc = &sc;
	mon.st = &st;
	if (sched_monitor_start(&mon, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot start the metrics listener",
		    "error", err, NULL);
		return 1;
	}
	{
		struct vr_log_field f[] = {
			VR_LF_STR("holder", relay.holder),
			VR_LF_INT("metrics_port", mon.httpd != NULL ?
			    vr_httpd_port(mon.httpd) : 0),
			VR_LF_INT("batch", sc.batch),
			VR_LF_INT("lease_ms", sc.lease_ms),
		};
		vr_log_fields(VR_LOG_INFO, NULL, "scheduler started", f,
		    VR_NFIELDS(f));
	}
	rc = sched_relay_run(&relay);
	sched_monitor_stop(&mon);
	pthread_mutex_destroy(&st.lock);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	vr_log(VR_LOG_INFO, NULL, "scheduler stopped", NULL);
	return rc;
}
