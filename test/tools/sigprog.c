/*
 * sigprog: processes that `mprof dump` must handle with care (issue 10,
 * item 8).  Each allocates at records_site, prints "ready <pid>", waits
 * for DIR/go (30 s at most, then exit 3), prints what it saw and "done".
 *
 *   sigprog title DIR     writes a process title over its environ block,
 *                         as setproctitle does in nginx, redis and
 *                         PostgreSQL, so /proc/PID/environ no longer holds
 *                         MPROF_*; it leaves SIGUSR2 at SIG_DFL, so a
 *                         SIGUSR2 kills it
 *   sigprog handler DIR   counts SIGUSR2 in its own handler; prints
 *                         "usr2 <n>" at the end
 *   sigprog sigwait DIR   blocks SIGUSR2 in every thread (it has two) and
 *                         takes it with sigtimedwait; prints "usr2 <n>"
 */
#include "common.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

extern char **environ;

static volatile sig_atomic_t g_usr2;

SITE static void *records_site(void)
{
    return prog_check(malloc(5000), "malloc");
}

static void on_usr2(int sig)
{
    (void)sig;
    g_usr2++;
}

static char *go_path(const char *dir)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/go", dir);
    return path;
}

/* setproctitle's way: move environ to the heap, then use the whole
 * argv + environ block for the title. */
static void set_title(char **argv)
{
    char *end = argv[0];
    for (char **a = argv; *a; a++)
        end = *a + strlen(*a) + 1;
    int n = 0;
    while (environ[n])
        n++;
    char **copy = prog_check(malloc((size_t)(n + 1) * sizeof *copy), "malloc");
    for (int i = 0; i < n; i++) {
        if (environ[i] == end)
            end = environ[i] + strlen(environ[i]) + 1;
        copy[i] = prog_check(strdup(environ[i]), "strdup");
    }
    copy[n] = NULL;
    environ = copy;
    memset(argv[0], 0, (size_t)(end - argv[0]));
    snprintf(argv[0], (size_t)(end - argv[0]), "sigprog: title over the environment");
}

static void *idle(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

/* The signal blocked everywhere, as sigwait programs do: in main before
 * any thread exists, so every thread inherits the mask. */
static void wait_with_sigwait(const char *go)
{
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, idle, NULL) != 0)
        prog_fail("pthread_create");
    dprintf(1, "ready %d\n", (int)getpid());
    for (int ms = 0; ms < 30000 && access(go, F_OK) != 0; ms += 10) {
        struct timespec ts = {0, 10 * 1000000};
        if (sigtimedwait(&usr2, NULL, &ts) == SIGUSR2)
            g_usr2++;
    }
    struct timespec now = {0, 0}; /* one sent just before go */
    while (sigtimedwait(&usr2, NULL, &now) == SIGUSR2)
        g_usr2++;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        dprintf(2, "usage: sigprog title|handler|sigwait DIR\n");
        return 2;
    }
    void *p = records_site();
    const char *go = go_path(argv[2]);
    if (strcmp(argv[1], "sigwait") == 0) {
        wait_with_sigwait(go);
    } else {
        if (strcmp(argv[1], "title") == 0)
            set_title(argv);
        else
            signal(SIGUSR2, on_usr2);
        dprintf(1, "ready %d\n", (int)getpid());
        if (prog_wait_file(go, 30000) < 0)
            return 3;
    }
    dprintf(1, "usr2 %d\ndone\n", (int)g_usr2);
    free(p);
    return 0;
}
