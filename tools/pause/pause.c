/*
 * The process that holds a pod sandbox's namespaces (the "pause" container) for the locally built sandbox image.
 * It must stay up doing nothing, exit promptly when the runtime stops the sandbox (SIGINT/SIGTERM: as PID 1 the
 * kernel ignores any signal without a handler, so the handlers are not optional), and reap zombies: when a pod
 * shares its PID namespace this process is PID 1 and inherits every orphan of the pod's containers.
 * Built statically (tools/build.sh) because the image holds nothing but this file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "dev"
#endif

static void on_stop(int sig) {
	(void)sig;
	_exit(0);
}

static void on_child(int sig) {
	int saved = errno;
	(void)sig;
	/* One SIGCHLD can stand for several exits, so drain them all. */
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
	errno = saved;
}

int main(int argc, char **argv) {
	struct sigaction sa;

	if (argc == 2 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("pause %s\n", VERSION);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: pause [--version]\n");
		return 2;
	}
	if (getpid() != 1) {
		fprintf(stderr, "pause: not PID 1: orphans of other processes will not be reaped here\n");
	}

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
		perror("pause: sigaction");
		return 1;
	}
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL) < 0) {
		perror("pause: sigaction");
		return 1;
	}
	for (;;) {
		pause();
	}
}
