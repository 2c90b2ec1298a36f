/*
 * harness.c: see harness.h.
 *
 * Programs are started with fork + execve, their output drained through
 * pipes with poll() while they run (a full pipe must never stall them), and
 * they are killed when a deadline passes so that a hung profiler fails one
 * test instead of the whole run.
 */
#include "harness.h"

#include "clock.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IT_BUILD_DIR
#error "IT_BUILD_DIR (absolute path of build/) must be defined"
#endif

extern char **environ;

/* ---- strings ---- */

void sb_append(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        ck_assert_ptr_nonnull(b->s);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void sb_free(strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

static const char *sb_str(const strbuf *b)
{
    return b->s ? b->s : "";
}

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long now_ms(void) { return (long)(mprof_clock_ns(CLOCK_MONOTONIC) / 1000000); }

/* ---- paths ---- */

static const char *build_dir(void)
{
    const char *b = getenv("MPROF_TEST_BUILD");
    return b && *b ? b : IT_BUILD_DIR;
}

static const char *path_in_build(const char *rel)
{
    static char bufs[8][1024];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, sizeof bufs[0], "%s/%s", build_dir(), rel);
    return p;
}

const char *h_lib(void)
{
    return path_in_build("libmprof.so");
}

const char *h_tool(void)
{
    return path_in_build("mprof");
}

const char *h_prog(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "test/programs/%s", name);
    return path_in_build(rel);
}

const char *h_work(void)
{
    return path_in_build("test/integration/work");
}

void h_mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(tmp, 0755);
        *p = '/';
    }
    mkdir(tmp, 0755);
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[2048];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        closedir(d);
        chmod(path, 0755);
        rmdir(path);
    } else {
        unlink(path);
    }
}

const char *h_fresh_dir(const char *name)
{
    static char bufs[8][1024]; /* several may be live in one test */
    static int next;
    char *dir = bufs[next++ % 8];
    snprintf(dir, sizeof bufs[0], "%s/%s", h_work(), name);
    rm_rf(dir);
    h_mkdir_p(dir);
    struct stat st;
    ck_assert_msg(stat(dir, &st) == 0 && S_ISDIR(st.st_mode),
                  "cannot create %s", dir);
    return dir;
}

/* ---- running programs ---- */

static bool is_filtered(const char *entry)
{
    return strncmp(entry, "MPROF_", 6) == 0 ||
           strncmp(entry, "LD_PRELOAD=", 11) == 0;
}

static bool spec_sets(const run_spec *s, const char *prefix)
{
    for (int i = 0; i < RUN_MAX_ENV && s->env[i]; i++)
        if (strncmp(s->env[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static const char *default_env;

void run_default_env(const char *entry) { default_env = entry; }

static char **child_env(const run_spec *s)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + RUN_MAX_ENV + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_filtered(environ[i]))
            env[k++] = environ[i];
    for (int i = 0; i < RUN_MAX_ENV && s->env[i]; i++)
        env[k++] = (char *)s->env[i];
    if (default_env) {
        char name[64];
        snprintf(name, sizeof name, "%.*s=", (int)strcspn(default_env, "="), default_env);
        if (!spec_sets(s, name))
            env[k++] = (char *)default_env;
    }
    if (!s->no_preload && !spec_sets(s, "LD_PRELOAD=")) {
        static char pre[1100];
        snprintf(pre, sizeof pre, "LD_PRELOAD=%s", h_lib());
        env[k++] = pre;
    }
    env[k] = NULL;
    return env;
}

/* Signal state is inherited across exec: start the program from defaults,
 * whatever the test runner (Check, a shell) set up. */
static void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
}

static void child_exec(const run_spec *s, int out_w, int err_w)
{
    reset_signals();
    dup2(out_w, 1);
    dup2(err_w, 2);
    if (s->cwd && chdir(s->cwd) != 0)
        _exit(126);
    if (s->fsize_limit > 0) {
        struct rlimit rl = {(rlim_t)s->fsize_limit, (rlim_t)s->fsize_limit};
        setrlimit(RLIMIT_FSIZE, &rl);
        signal(SIGXFSZ, SIG_IGN); /* writes fail with EFBIG instead */
    }
    execvpe(s->argv[0], (char *const *)s->argv, child_env(s));
    dprintf(2, "exec %s: %s\n", s->argv[0], strerror(errno));
    _exit(127);
}

void run_start(run *r, const run_spec *s)
{
    int out[2], err[2];
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
    fflush(NULL);
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0)
        child_exec(s, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    r->out_fd = out[0];
    r->err_fd = err[0];
}

/* Read whatever is available within timeout_ms; -1 fds are at EOF. */
static void pump(run *r, int timeout_ms)
{
    struct pollfd p[2] = {{r->out_fd, POLLIN, 0}, {r->err_fd, POLLIN, 0}};
    if (poll(p, 2, timeout_ms) <= 0)
        return;
    int *fds[2] = {&r->out_fd, &r->err_fd};
    strbuf *bufs[2] = {&r->out, &r->err};
    for (int i = 0; i < 2; i++) {
        if (*fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char buf[4096];
        ssize_t n = read(*fds[i], buf, sizeof buf);
        if (n > 0) {
            sb_append(bufs[i], buf, (size_t)n);
        } else if (n == 0 || errno != EINTR) {
            close(*fds[i]);
            *fds[i] = -1;
        }
    }
}

static void reap(run *r)
{
    if (r->exited)
        return;
    int st;
    if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
        r->exited = true;
        r->status = st;
    }
}

bool run_wait_stdout(run *r, const char *needle, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (!strstr(sb_str(&r->out), needle)) {
        if (now_ms() > deadline || (r->out_fd < 0 && r->exited))
            return false;
        pump(r, 20);
        reap(r);
    }
    return true;
}

void run_kill(run *r, int sig)
{
    if (!r->exited)
        kill(r->pid, sig);
}

void run_finish(run *r, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (!r->exited || r->out_fd >= 0 || r->err_fd >= 0) {
        if (now_ms() > deadline) {
            if (!r->exited) {
                r->timed_out = true;
                kill(r->pid, SIGKILL);
                waitpid(r->pid, &r->status, 0);
                r->exited = true;
            }
            break; /* a leftover grandchild may hold the pipes */
        }
        if (r->out_fd >= 0 || r->err_fd >= 0)
            pump(r, 20);
        else
            sleep_ms(5);
        reap(r);
    }
    if (r->out_fd >= 0)
        close(r->out_fd);
    if (r->err_fd >= 0)
        close(r->err_fd);
    r->out_fd = r->err_fd = -1;
    if (!r->out.s)
        sb_append(&r->out, "", 0);
    if (!r->err.s)
        sb_append(&r->err, "", 0);
}

void run_free(run *r)
{
    sb_free(&r->out);
    sb_free(&r->err);
}

int run_exit_code(const run *r)
{
    if (!r->exited)
        return -1;
    if (WIFEXITED(r->status))
        return WEXITSTATUS(r->status);
    if (WIFSIGNALED(r->status))
        return 128 + WTERMSIG(r->status);
    return -1;
}

void run_checked(run *r, const run_spec *s)
{
    run_start(r, s);
    run_finish(r, 40000); /* below the Check timeouts: our message wins */
    ck_assert_msg(!r->timed_out,
                  "%s did not finish within 40 s (killed)\nstdout:\n%s\n"
                  "stderr:\n%s",
                  s->argv[0], r->out.s, r->err.s);
}

/* ---- program output ---- */

int truths_parse(const char *out, truth *t, int max)
{
    int n = 0;
    for (const char *l = out; l && *l && n < max; l = strchr(l, '\n')) {
        if (*l == '\n')
            l++;
        truth x;
        if (sscanf(l, "truth %d %63s %lld %lld %lld %lld %lld %255s %ld",
                   &x.phase, x.site, &x.size, &x.alloc_n, &x.alloc_b,
                   &x.inuse_n, &x.inuse_b, x.file, &x.line) == 9)
            t[n++] = x;
    }
    return n;
}

const truth *truth_find(const truth *t, int n, const char *site)
{
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].site, site) == 0)
            return &t[i];
    return NULL;
}

int out_ints(const char *out, const char *key, long *v, int max)
{
    int n = 0;
    size_t klen = strlen(key);
    for (const char *l = out; l && *l && n < max; l = strchr(l, '\n')) {
        if (*l == '\n')
            l++;
        if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
            v[n++] = strtol(l + klen + 1, NULL, 10);
    }
    return n;
}

int lines_starting(const char *s, const char *prefix, strbuf *out)
{
    int n = 0;
    size_t plen = strlen(prefix);
    while (s && *s) {
        const char *end = strchr(s, '\n');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len >= plen && strncmp(s, prefix, plen) == 0) {
            sb_append(out, s, len);
            sb_append(out, "\n", 1);
            n++;
        }
        s = end ? end + 1 : NULL;
    }
    return n;
}

/* ---- files ---- */

static int cmp_profile_file(const void *a, const void *b)
{
    const profile_file *x = a, *y = b;
    return mprof_outname_cmp(&x->name, &y->name);
}

int profile_files(const char *dir, const char *prefix, const char *kind,
                  profile_file *f, int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        mprof_outname *o = &f[n].name;
        if (mprof_outname_match(e->d_name, prefix, o) < 0 || o->tmp ||
            (*kind && strcmp(o->kind, kind) != 0))
            continue;
        f[n].pid = o->pid;
        f[n].seq = (long)o->seq;
        memcpy(f[n].kind, o->kind, sizeof f[n].kind);
        snprintf(f[n].path, sizeof f[n].path, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(f, (size_t)n, sizeof *f, cmp_profile_file);
    return n;
}

int heap_files(const char *dir, const char *prefix, heap_file *f, int max)
{
    return profile_files(dir, prefix, "heap", f, max);
}

const heap_file *heap_file_find(const heap_file *f, int n, long pid, long seq)
{
    for (int i = 0; i < n; i++)
        if (f[i].pid == pid && f[i].seq == seq)
            return &f[i];
    return NULL;
}

int dir_entries(const char *dir, strbuf *names)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        sb_printf(names, "%s\n", e->d_name);
        n++;
    }
    closedir(d);
    if (!names->s)
        sb_append(names, "", 0);
    return n;
}

bool wait_file(const char *path, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (access(path, F_OK) != 0) {
        if (now_ms() > deadline)
            return false;
        sleep_ms(10);
    }
    return true;
}

void h_add_test(Suite *s, const char *name, const TTest *t, int timeout)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}
