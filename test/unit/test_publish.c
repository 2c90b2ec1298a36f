/* Unit tests of core/record/publish.c: the names it gives its mappings, read back
 * from this process's /proc/self/maps, as the format in publish.h says;
 * updates from a signal handler that interrupts an update; a fork child
 * that inherits its parent's mapping and then replaces it with its own.
 * Check runs every test in a fresh child, so each starts unpublished. */
#include "publish.h"

#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAPS_MAX (1 << 20)

static char g_maps[MAPS_MAX];

static const char *read_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(g_maps, 1, sizeof g_maps - 1, f);
    fclose(f);
    g_maps[n] = '\0';
    return g_maps;
}

/* The names of the mappings whose name starts with `prefix`, one per line
 * (without "/memfd:" and " (deleted)") in out; how many. */
static int names(const char *prefix, char *out, size_t len)
{
    int n = 0;
    out[0] = '\0';
    for (const char *l = read_maps(); *l;) {
        const char *end = strchr(l, '\n');
        const char *m = strstr(l, "/memfd:");
        if (m && m < end && strncmp(m + 7, prefix, strlen(prefix)) == 0) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%.*s\n",
                     (int)(end - (m + 7) - (sizeof " (deleted)" - 1)), m + 7);
            n++;
        }
        l = end + 1;
    }
    return n;
}

static void init(const char *out, int sig)
{
    mprof_config cfg;
    mprof_config_defaults(&cfg);
    cfg.signal = sig;
    snprintf(cfg.out, sizeof cfg.out, "%s", out);
    mprof_publish_init(&cfg);
}

START_TEST(names_as_documented)
{
    char got[4096], want[512];
    ck_assert_int_eq(names("mprof:", got, sizeof got), 0);
    init("/tmp/a b:%c\n", SIGUSR2);
    snprintf(want, sizeof want,
             "mprof:1:pid=%d:sig=12:own=0:rec=0:seq=0:files=-:out=/tmp/a b:%%25c%%0A\n",
             (int)getpid());
    ck_assert_int_eq(names("mprof:", got, sizeof got), 1);
    ck_assert_str_eq(got, want);
    mprof_publish_signal(SIGUSR2, 1);
    mprof_publish_recording();
    mprof_publish_dump(3, MPROF_PUBLISH_HEAP | MPROF_PUBLISH_MUTEX);
    snprintf(want, sizeof want,
             "mprof:1:pid=%d:sig=12:own=1:rec=1:seq=3:files=heap,mutex:out=/tmp/a b:%%25c%%0A\n",
             (int)getpid());
    ck_assert_int_eq(names("mprof:", got, sizeof got), 1);
    ck_assert_str_eq(got, want);
    mprof_publish_signal(0, 1); /* MPROF_SIGNAL=none is never "own" */
    ck_assert_int_eq(names("mprof:", got, sizeof got), 1);
    ck_assert_msg(strstr(got, ":sig=0:own=0:"), "%s", got);
}
END_TEST

/* A prefix that needs pieces: each name within 249 bytes, and head plus
 * pieces in order give the encoded prefix back. */
START_TEST(long_prefix_in_pieces)
{
    static char out[3001], got[65536], joined[8192];
    for (int i = 0; i < 3000; i++)
        out[i] = i % 50 == 0 ? '/' : (char)('a' + i % 26);
    out[3000] = '\0';
    init(out, SIGUSR2);
    ck_assert_int_eq(names("mprof:1:", got, sizeof got), 1);
    const char *more = strstr(got, ":more=");
    ck_assert_msg(more, "%s", got);
    int k = atoi(more + 6);
    ck_assert_int_ge(k, 12); /* 3000 bytes at most 237 a piece */
    snprintf(joined, sizeof joined, "%.*s", (int)(strchr(got, '\n') - strstr(got, ":out=") - 5),
             strstr(got, ":out=") + 5);
    ck_assert_int_le(strlen(got) - 1, 249);
    for (int i = 1; i <= k; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "mprof:1c:%d:", i);
        ck_assert_msg(names(prefix, got, sizeof got) == 1, "piece %d of %d", i, k);
        ck_assert_int_le(strlen(got) - 1, 249);
        strncat(joined, got + strlen(prefix), strlen(got) - strlen(prefix) - 1);
    }
    ck_assert_str_eq(joined, out);
}
END_TEST

/* Updates from a handler that interrupts updates on the same thread: no
 * deadlock, no second mapping, errno untouched, and the last state wins. */
static volatile sig_atomic_t g_handler_seq;

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    mprof_publish_dump((unsigned)++g_handler_seq, MPROF_PUBLISH_BLOCK);
    if (errno != saved)
        abort();
}

START_TEST(handler_interrupts_update)
{
    init("/tmp/h", SIGUSR2);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (int i = 0; i < 5000; i++) {
        errno = 4242;
        mprof_publish_signal(SIGUSR2, i & 1);
        ck_assert_int_eq(errno, 4242);
    }
    for (int i = 0; i < 100 && g_handler_seq == 0; i++)
        usleep(1000); /* sanitizers hold signals until a call they intercept */
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    ck_assert_int_gt(g_handler_seq, 0);
    mprof_publish_signal(SIGUSR2, 1);
    mprof_publish_dump(1000000, 63); /* every kind: six bits */
    char got[4096], want[256];
    snprintf(want, sizeof want,
             "mprof:1:pid=%d:sig=12:own=1:rec=0:seq=1000000:"
             "files=heap,block,mutex,threadcreate,threads,peak:out=/tmp/h\n",
             (int)getpid());
    ck_assert_int_eq(names("mprof:", got, sizeof got), 1);
    ck_assert_str_eq(got, want);
}
END_TEST

/* The child sees its parent's state until it publishes, then only its own:
 * nothing recorded, no dump, the parent's signal and prefix. */
static int child_checks(pid_t parent)
{
    char got[4096], want[256];
    snprintf(want, sizeof want,
             "mprof:1:pid=%d:sig=12:own=1:rec=1:seq=4:files=heap:out=/tmp/f\n", (int)parent);
    if (names("mprof:", got, sizeof got) != 1 || strcmp(got, want) != 0)
        return 1;
    mprof_publish_recording();
    snprintf(want, sizeof want,
             "mprof:1:pid=%d:sig=12:own=1:rec=1:seq=0:files=-:out=/tmp/f\n", (int)getpid());
    if (names("mprof:", got, sizeof got) != 1 || strcmp(got, want) != 0)
        return 2;
    return 0;
}

START_TEST(fork_child_takes_over)
{
    init("/tmp/f", SIGUSR2);
    mprof_publish_signal(SIGUSR2, 1);
    mprof_publish_recording();
    mprof_publish_dump(4, MPROF_PUBLISH_HEAP);
    pid_t parent = getpid(), c = fork();
    if (c == 0)
        _exit(child_checks(parent));
    int st;
    ck_assert_int_eq(waitpid(c, &st, 0), c);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "the child saw the wrong state (check %d)", WEXITSTATUS(st));
    char got[4096];
    ck_assert_int_eq(names("mprof:", got, sizeof got), 1);
    ck_assert_msg(strstr(got, ":seq=4:files=heap:"), "the parent's state changed: %s", got);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("publish");
    tcase_add_test(tc, names_as_documented);
    tcase_add_test(tc, long_prefix_in_pieces);
    tcase_add_test(tc, handler_interrupts_update);
    tcase_add_test(tc, fork_child_takes_over);
    return run_suite("publish", tc, NULL);
}
