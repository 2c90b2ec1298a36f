/*
 * test_http: MPROF_HTTP end to end (core/record/httpd.c, endpoints.c).
 *
 * test/http/httpprog runs under the profiler with a server on a port the
 * kernel picks (port 0, read back from the published mapping, httpd.h) or
 * a unix socket in the test's directory, so that runs sharing the machine
 * never collide.  The real clients read it: `go tool pprof -raw`, curl;
 * the hostile ones are raw sockets.  Every test ends the program through
 * its truth file and checks that its output, exit status and exit dump
 * are what they are without a server.  One test: CK_RUN_CASE=<name>.
 */
#include "harness.h"
#include "pprof.h"
#include "run_suite.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LEAKS 60000
struct leaks {
    volatile int64_t quit;
    volatile int64_t n;
    volatile int64_t child;
    int64_t before[MAX_LEAKS], after[MAX_LEAKS];
    volatile int64_t reuse;
};

typedef struct prog {
    run r;
    struct leaks *t;
    const char *dir;
    char addr[160]; /* "127.0.0.1:PORT", or "" */
} prog;

static const char *prog_path(void) { return IT_BUILD_DIR "/test/http/httpprog"; }

/* Start httpprog in a fresh dir with env (NULL-terminated) and wait for
 * "ready"; the truth file is mapped. */
static void start_argv(prog *p, const char *name, const char *arg, const char *const *env);
static void start(prog *p, const char *name, const char *const *env)
{
    start_argv(p, name, NULL, env);
}

static void start_argv(prog *p, const char *name, const char *arg, const char *const *env)
{
    memset(p, 0, sizeof *p);
    p->dir = h_fresh_dir(name);
    static char truth_path[1024];
    snprintf(truth_path, sizeof truth_path, "%s/truth", p->dir);
    run_spec s = {.argv = {prog_path(), truth_path, arg}, .cwd = p->dir};
    int k = 0;
    s.env[k++] = "MPROF_OUT=prof";
    for (; env && *env; env++)
        s.env[k++] = *env;
    run_start(&p->r, &s);
    ck_assert_msg(run_wait_stdout(&p->r, "ready\n", 20000), "httpprog not ready: %s",
                  p->r.err.s ? p->r.err.s : "");
    int fd = open(truth_path, O_RDWR);
    ck_assert(fd >= 0);
    p->t = mmap(NULL, sizeof *p->t, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    ck_assert(p->t != MAP_FAILED);
}

/* The published address of pid's server, waited for up to 10 s; false if
 * there is none. */
static bool published_addr(pid_t pid, char *out, size_t size, int wait_ms)
{
    char path[64], key[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    snprintf(key, sizeof key, "mprof-http:1:pid=%d:addr=", (int)pid);
    for (int waited = 0;; waited += 20) {
        FILE *f = fopen(path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            char *k = strstr(line, key);
            if (!k)
                continue;
            snprintf(out, size, "%s", k + strlen(key));
            out[strcspn(out, " \n")] = 0;
            fclose(f);
            return true;
        }
        if (f)
            fclose(f);
        if (waited >= wait_ms)
            return false;
        sleep_ms(20);
    }
}

static void need_addr(prog *p)
{
    ck_assert_msg(published_addr(p->r.pid, p->addr, sizeof p->addr, 10000),
                  "no published /debug/pprof address");
}

/* Tell the program to finish; its whole output must be its own. */
static void finish(prog *p, const char *expect_err)
{
    p->t->quit = 1;
    run_finish(&p->r, 30000);
    ck_assert_int_eq(run_exit_code(&p->r), 0);
    ck_assert_str_eq(p->r.out.s ? p->r.out.s : "", "ready\ndone\n");
    ck_assert_str_eq(p->r.err.s ? p->r.err.s : "", expect_err);
    char path[1200];
    snprintf(path, sizeof path, "%s/prof.%d.1.heap.pb.gz", p->dir, (int)p->r.pid);
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "no exit dump %s", path);
    munmap(p->t, sizeof *p->t);
    run_free(&p->r);
}

/* A USR2 dump is written while whatever the test set up goes on. */
static void check_signal_dump(prog *p)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/prof.%d.1.heap.pb.gz", p->dir, (int)p->r.pid);
    kill(p->r.pid, SIGUSR2);
    ck_assert_msg(wait_file(path, 30000), "no dump on SIGUSR2: %s", path);
}

/* ---- a client of our own ---- */

static int connect_to(const char *addr)
{
    if (strncmp(addr, "unix:", 5) == 0) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", addr + 5);
        ck_assert(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        return fd;
    }
    char host[64];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect %s: %s", addr,
                  strerror(errno));
    return fd;
}

/* Everything the server sends until it closes (at most 30 s). */
static void read_all(int fd, strbuf *out)
{
    char buf[65536];
    for (int waited = 0; waited < 30000;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        sb_append(out, buf, (size_t)n);
    }
}

/* GET path: the status; the body (after the head) into body. */
static int get(const char *addr, const char *path, strbuf *body)
{
    int fd = connect_to(addr);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    ck_assert(write(fd, req, (size_t)n) == n);
    strbuf all = {0};
    read_all(fd, &all);
    close(fd);
    int status = 0;
    if (all.s)
        sscanf(all.s, "HTTP/1.1 %d", &status);
    const char *b = all.s ? strstr(all.s, "\r\n\r\n") : NULL;
    if (b && body)
        sb_append(body, b + 4, all.len - (size_t)(b + 4 - all.s));
    sb_free(&all);
    return status;
}

static void save(const strbuf *b, const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert(f && fwrite(b->s, 1, b->len, f) == b->len);
    fclose(f);
}

/* A shell command's stdout. */
static int sh(const char *cmd, strbuf *out)
{
    FILE *f = popen(cmd, "r");
    ck_assert(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_append(out, buf, n);
    return pclose(f);
}

#define ENV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- the tests ---- */

/* `go tool pprof -raw` reads heap, allocs, block and mutex over HTTP. */
START_TEST(http_go_pprof_reads_every_profile)
{
    prog p;
    start(&p, "http_go_pprof", ENV("MPROF_HTTP=127.0.0.1:0", "MPROF_MEM_RATE=4096",
                                   "MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1"));
    need_addr(&p);
    while (p.t->n < 100) /* some leaks and contention to show */
        sleep_ms(10);
    static const struct { const char *path, *want; } cases[] = {
        {"heap", "leak_site"}, {"allocs", "alloc_space/bytes[dflt]"},
        {"block", "hold_lock"}, {"mutex", "hold_lock"}};
    for (size_t i = 0; i < 4; i++) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "cd %s && PPROF_TMPDIR=%s go tool pprof -raw "
                 "http://%s/debug/pprof/%s 2>&1", p.dir, p.dir, p.addr, cases[i].path);
        strbuf out = {0};
        int rc = sh(cmd, &out);
        ck_assert_msg(rc == 0 && out.s && strstr(out.s, cases[i].want),
                      "%s: no %s in:\n%s", cases[i].path, cases[i].want, out.s ? out.s : "");
        sb_free(&out);
    }
    finish(&p, "");
}
END_TEST

/* `mprof top` and `mprof diff` read URLs. */
START_TEST(http_mprof_top_and_diff_read_urls)
{
    prog p;
    start(&p, "http_mprof_top", ENV("MPROF_HTTP=127.0.0.1:0"));
    need_addr(&p);
    while (p.t->n < 100) /* 200 KB leaked: leak_site sampled, whatever the draw */
        sleep_ms(10);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s/mprof top http://%s/debug/pprof/heap 2>&1", IT_BUILD_DIR, p.addr);
    strbuf out = {0};
    ck_assert_int_eq(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strstr(out.s, "leak_site"), "%s", out.s ? out.s : "");
    sb_free(&out);
    snprintf(cmd, sizeof cmd, "%s/mprof diff http://%s/debug/pprof/allocs "
             "http://%s/debug/pprof/allocs 2>&1", IT_BUILD_DIR, p.addr, p.addr);
    ck_assert_int_eq(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strstr(out.s, "Old: http://") && strstr(out.s, "New: http://"), "%s",
                  out.s ? out.s : "");
    sb_free(&out);
    snprintf(cmd, sizeof cmd, "%s/mprof top http://%s/debug/pprof/nosuch 2>&1", IT_BUILD_DIR,
             p.addr);
    ck_assert_int_ne(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strstr(out.s, "HTTP 404: Unknown profile"), "%s", out.s ? out.s : "");
    sb_free(&out);
    finish(&p, "");
}
END_TEST

/* curl gets the index and the debug=1 texts. */
START_TEST(http_curl_index_and_text)
{
    prog p;
    start(&p, "http_curl", ENV("MPROF_HTTP=127.0.0.1:0", "MPROF_MEM_RATE=4096",
                               "MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1"));
    need_addr(&p);
    while (p.t->n < 100)
        sleep_ms(10);
    static const struct { const char *path, *starts, *has; } cases[] = {
        {"/debug/pprof/", "<html>", "href='heap?debug=1'"},
        {"/debug/pprof/heap?debug=1", "heap profile: ", "leak_site"},
        {"/debug/pprof/block?debug=1", "--- contention:\ncycles/second=", "hold_lock"},
        {"/debug/pprof/mutex?debug=1", "--- contention:\ncycles/second=", "hold_lock"},
        {"/debug/pprof/profile", "mprof: no CPU profile", ""},
        {"/debug/pprof/nosuch", "Unknown profile", ""},
        {"/debug/pprof/heap?seconds=0", "invalid value for \"seconds\"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "curl -s 'http://%s%s'", p.addr, cases[i].path);
        strbuf out = {0};
        ck_assert_int_eq(sh(cmd, &out), 0);
        ck_assert_msg(out.s && strncmp(out.s, cases[i].starts, strlen(cases[i].starts)) == 0 &&
                          strstr(out.s, cases[i].has),
                      "%s:\n%s", cases[i].path, out.s ? out.s : "(nothing)");
        sb_free(&out);
    }
    finish(&p, "");
}
END_TEST

/* The leak indices a profile holds at leak_site, and whether any sample
 * comes from before_window; each leak must be one object of its size. */
struct window {
    long lo, hi, count;
    bool before_site;
    int64_t duration;
};

static const char *leaf_name(const mprof_pprof_profile *pp, const mprof_pprof_sample *s, size_t j)
{
    if (j >= s->nlocation_id)
        return "";
    const mprof_pprof_location *l = mprof_pprof_location_by_id(pp, s->location_id[j]);
    if (!l || !l->nline)
        return "";
    const mprof_pprof_function *f = mprof_pprof_function_by_id(pp, l->line[0].function_id);
    return f ? mprof_pprof_string(pp, f->name) : "";
}

static void read_window(const char *path, struct window *w)
{
    mprof_pprof_profile pp;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&pp, path, err, sizeof err) == 0, "%s", err);
    *w = (struct window){.lo = -1, .hi = -1, .duration = pp.duration_nanos};
    for (size_t i = 0; i < pp.nsample; i++) {
        const mprof_pprof_sample *s = &pp.sample[i];
        bool leak = false;
        for (size_t j = 0; j < 3; j++) {
            if (strcmp(leaf_name(&pp, s, j), "before_window") == 0)
                w->before_site = true;
            leak |= strcmp(leaf_name(&pp, s, j), "leak_site") == 0;
        }
        if (!leak)
            continue;
        ck_assert_int_eq(s->nlabel, 1);
        long idx = (long)s->label[0].num - 2000;
        ck_assert_msg(s->value[0] == 1 && s->value[1] == s->label[0].num &&
                          s->value[2] == 1 && s->value[3] == s->label[0].num,
                      "leak %ld: %lld objects, %lld bytes", idx, (long long)s->value[0],
                      (long long)s->value[1]);
        w->lo = w->lo < 0 || idx < w->lo ? idx : w->lo;
        w->hi = idx > w->hi ? idx : w->hi;
        w->count++;
    }
    mprof_pprof_free(&pp);
}

/* ?seconds=2 at MPROF_MEM_RATE=1 holds exactly the leaks made between
 * its two snapshots: a contiguous run of them, each once and whole, none
 * made before the request was sent (nor before_window's), none after the
 * answer came, and the leaks just outside the run were made more than
 * the window's 2 s apart (the program's own clock says so). */
START_TEST(http_delta_seconds_is_exactly_the_window)
{
    prog p;
    start(&p, "http_delta", ENV("MPROF_HTTP=127.0.0.1:0", "MPROF_MEM_RATE=1"));
    need_addr(&p);
    while (p.t->n < 20)
        sleep_ms(10);
    int64_t sent = p.t->n;
    strbuf body = {0};
    ck_assert_int_eq(get(p.addr, "/debug/pprof/heap?seconds=2", &body), 200);
    int64_t answered = p.t->n;
    char path[1200];
    snprintf(path, sizeof path, "%s/delta.pb.gz", p.dir);
    save(&body, path);
    sb_free(&body);
    struct window w;
    read_window(path, &w);
    ck_assert_msg(!w.before_site, "before_window's allocations are in the delta");
    ck_assert_msg(w.count > 0, "no leak in a 2 s window");
    ck_assert_int_eq(w.count, w.hi - w.lo + 1);
    ck_assert_msg(w.lo >= sent && w.hi < answered, "leaks %ld..%ld, request sent after %lld, "
                  "answered before %lld", w.lo, w.hi, (long long)sent, (long long)answered);
    ck_assert_msg(w.duration >= 2000000000LL, "duration %lld", (long long)w.duration);
    /* leaks lo-1 and hi+1 fall outside the window, which is at least 2 s
     * long: lo-1 began before it opened, hi+1 ended after it closed */
    while (p.t->n < w.hi + 2)
        sleep_ms(10);
    ck_assert_msg(p.t->after[w.hi + 1] - p.t->before[w.lo - 1] > 2000000000LL,
                  "leaks %ld and %ld less than 2 s apart", w.lo - 1, w.hi + 1);
    /* and the godeltaprof path: the second answer holds only what came
     * after the first, in-use values whole */
    ck_assert_int_eq(get(p.addr, "/debug/pprof/delta_heap", NULL), 200);
    int64_t first = p.t->n;
    sleep_ms(200);
    strbuf b2 = {0};
    ck_assert_int_eq(get(p.addr, "/debug/pprof/delta_heap", &b2), 200);
    snprintf(path, sizeof path, "%s/delta_heap.pb.gz", p.dir);
    save(&b2, path);
    sb_free(&b2);
    finish(&p, "");
    mprof_pprof_profile pp;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&pp, path, err, sizeof err) == 0, "%s", err);
    for (size_t i = 0; i < pp.nsample; i++) {
        const mprof_pprof_sample *s = &pp.sample[i];
        if (s->nlabel && s->label[0].num >= 2000 && s->label[0].num < 2000 + first - 1)
            ck_assert_msg(s->value[0] == 0 && s->value[2] == 1,
                          "leak %lld: allocs %lld in a delta after it",
                          (long long)s->label[0].num - 2000, (long long)s->value[0]);
    }
    mprof_pprof_free(&pp);
}
END_TEST

/* unix:PATH: the socket file is mode 0600 whatever the umask, serves, and
 * goes with the program. */
START_TEST(http_unix_socket_mode_0600)
{
    mode_t old = umask(0);
    prog p;
    const char *dir = h_fresh_dir("http_unix_env");
    char env[1100];
    snprintf(env, sizeof env, "MPROF_HTTP=unix:%s/pprof.sock", dir);
    start(&p, "http_unix", ENV(env));
    umask(old);
    char path[1100];
    snprintf(path, sizeof path, "%s/pprof.sock", dir);
    struct stat st;
    for (int i = 0; i < 500 && stat(path, &st) != 0; i++)
        sleep_ms(20);
    ck_assert_msg(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "no socket at %s", path);
    ck_assert_msg((st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "curl -s --unix-socket %s 'http://x/debug/pprof/heap?debug=1'",
             path);
    strbuf out = {0};
    ck_assert_int_eq(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strncmp(out.s, "heap profile: ", 14) == 0, "%s", out.s);
    sb_free(&out);
    finish(&p, "");
    ck_assert_msg(stat(path, &st) < 0 && errno == ENOENT, "%s is left after exit", path);
}
END_TEST

/* A bad setting: one mprof: line, no server, the program as it is. */
START_TEST(http_bad_setting_is_one_line)
{
    static const char *bad[] = {"MPROF_HTTP=6060", "MPROF_HTTP=example.com:80",
                                "MPROF_HTTP=127.0.0.1:99999", "MPROF_HTTP=unix:"};
    for (size_t i = 0; i < 4; i++) {
        prog p;
        start(&p, "http_bad", ENV(bad[i]));
        char addr[64];
        ck_assert_msg(!published_addr(p.r.pid, addr, sizeof addr, 200), "%s served", bad[i]);
        p.t->quit = 1;
        run_finish(&p.r, 30000);
        ck_assert_str_eq(p.r.out.s, "ready\ndone\n");
        ck_assert_msg(p.r.err.s && strncmp(p.r.err.s, "mprof: MPROF_HTTP=", 18) == 0 &&
                          strchr(p.r.err.s, '\n') == p.r.err.s + p.r.err.len - 1,
                      "%s: stderr %s", bad[i], p.r.err.s ? p.r.err.s : "(none)");
        ck_assert_int_eq(run_exit_code(&p.r), 0);
        munmap(p.t, sizeof *p.t);
        run_free(&p.r);
    }
}
END_TEST

/* A port in use: one mprof: line, the program runs on and dumps. */
START_TEST(http_port_in_use_is_one_line)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 1) == 0);
    socklen_t len = sizeof sa;
    getsockname(l, (struct sockaddr *)&sa, &len);
    char env[64];
    snprintf(env, sizeof env, "MPROF_HTTP=127.0.0.1:%d", ntohs(sa.sin_port));
    prog p;
    start(&p, "http_taken", ENV(env));
    check_signal_dump(&p);
    finish(&p, "mprof: MPROF_HTTP: cannot listen (Address already in use); the program "
               "runs on without /debug/pprof\n");
    close(l);
}
END_TEST

/* 1 MiB of headers, a request never finished, 200 connections at once:
 * meanwhile dumps are written, a real request is answered, and the
 * program's output is its own. */
START_TEST(http_hostile_clients_change_nothing)
{
    prog p;
    start(&p, "http_hostile", ENV("MPROF_HTTP=127.0.0.1:0"));
    need_addr(&p);
    int slow = connect_to(p.addr); /* never finishes its request */
    ck_assert(write(slow, "GET /debug/pprof/heap HTTP/1.1\r\n", 32) == 32);
    int big = connect_to(p.addr);
    static char junk[1 << 20];
    memset(junk, 'a', sizeof junk);
    memcpy(junk, "GET /debug/pprof/heap HTTP/1.1\r\nX: ", 35);
    size_t off = 0;
    fcntl(big, F_SETFL, O_NONBLOCK);
    for (int tries = 0; off < sizeof junk && tries < 400; tries++) {
        ssize_t n = send(big, junk + off, sizeof junk - off, MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            break; /* closed on us: the answer to too much */
        else
            sleep_ms(5);
    }
    strbuf answer = {0};
    read_all(big, &answer); /* 431, or a reset */
    ck_assert_msg(!answer.s || strncmp(answer.s, "HTTP/1.1 431", 12) == 0, "%s", answer.s);
    sb_free(&answer);
    close(big);
    int many[200];
    for (int i = 0; i < 200; i++) {
        many[i] = connect_to(p.addr);
        ck_assert(write(many[i], "GET /debug/pprof/heap HTTP/1.1\r\n\r\n", 34) == 34);
    }
    check_signal_dump(&p);
    int ok = 0, busy = 0;
    for (int i = 0; i < 200; i++) {
        strbuf r = {0};
        read_all(many[i], &r);
        ok += r.s && strncmp(r.s, "HTTP/1.1 200", 12) == 0;
        busy += r.s && strncmp(r.s, "HTTP/1.1 503", 12) == 0;
        close(many[i]);
        sb_free(&r);
    }
    ck_assert_msg(ok > 0 && ok + busy == 200, "200 connections: %d ok, %d busy", ok, busy);
    ck_assert_int_eq(get(p.addr, "/debug/pprof/heap", NULL), 200);
    close(slow);
    finish(&p, "");
}
END_TEST

/* The sockets among pid's descriptors. */
static int count_sockets(pid_t pid)
{
    char dir[64], link[128], path[160];
    int n = 0;
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(dir, sizeof dir, "/proc/%d/fd/%d", (int)pid, fd);
        ssize_t l = readlink(dir, link, sizeof link - 1);
        if (l > 0) {
            link[l] = 0;
            n += strncmp(link, "socket:", 7) == 0;
        }
    }
    (void)path;
    return n;
}

/* The server thread blocks every signal, and mprof's descriptors (the
 * listening socket, its eventfd, a connection) sit at 48 and above, out of
 * the numbers a program works with (fdmove.h), close-on-exec. */
START_TEST(http_thread_and_descriptors_stay_apart)
{
    prog p;
    start(&p, "http_apart", ENV("MPROF_HTTP=127.0.0.1:0"));
    need_addr(&p);
    int conn = connect_to(p.addr); /* one connection held open */
    sleep_ms(100);
    char path[128], line[256];
    bool found = false;
    for (int tid = p.r.pid; tid < p.r.pid + 64 && !found; tid++) {
        snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)p.r.pid, tid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        found = fgets(line, sizeof line, f) && strcmp(line, "mprof-http\n") == 0;
        fclose(f);
        if (!found)
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)p.r.pid, tid);
        f = fopen(path, "r");
        unsigned long long blk = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "SigBlk: %llx", &blk) == 1)
                break;
        if (f)
            fclose(f);
        /* every signal but SIGKILL and SIGSTOP, the real-time ones too,
         * less glibc's own 32 and 33 (cancellation, setxid), which
         * pthread_sigmask never blocks */
        unsigned long long cannot = 1ull << (SIGKILL - 1) | 1ull << (SIGSTOP - 1) |
                                    1ull << 31 | 1ull << 32;
        ck_assert_msg((blk | cannot) == ~0ull,
                      "mprof-http blocks %llx", blk);
    }
    ck_assert_msg(found, "no mprof-http thread");
    int ours = 0;
    for (int fd = 0; fd < 1024; fd++) {
        char link[128];
        snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)p.r.pid, fd);
        ssize_t l = readlink(path, link, sizeof link - 1);
        if (l <= 0)
            continue;
        link[l] = 0;
        if (strncmp(link, "socket:", 7) && strcmp(link, "anon_inode:[eventfd]"))
            continue;
        ck_assert_msg(fd >= 48, "mprof's %s at fd %d", link, fd);
        snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)p.r.pid, fd);
        FILE *f = fopen(path, "r");
        unsigned flags = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "flags: %o", &flags) == 1)
                break;
        if (f)
            fclose(f);
        ck_assert_msg(flags & O_CLOEXEC, "fd %d is not close-on-exec", fd);
        ours++;
    }
    ck_assert_int_eq(ours, 3);
    close(conn);
    finish(&p, "");
}
END_TEST

/* A fork child keeps none of its parent's sockets and serves only where
 * the address is its own (%p in the path); then it does. */
/* A connection waiting for its ?seconds window whose number the program
 * closed and reused for a socket of its own: at the window's end nothing
 * is written into the program's socket (its output says what its peer
 * got: nothing). */
START_TEST(http_window_on_reused_number_writes_nothing)
{
    prog p;
    start_argv(&p, "http_reuse", "reuse", ENV("MPROF_HTTP=127.0.0.1:0"));
    need_addr(&p);
    int c = connect_to(p.addr);
    static const char req[] = "GET /debug/pprof/heap?seconds=2 HTTP/1.0\r\n\r\n";
    ck_assert(send(c, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1));
    sleep_ms(300); /* read by the server: the slot waits for its window */
    p.t->reuse = 1;
    for (int i = 0; i < 10000 && p.t->reuse != 2; i++)
        sleep_ms(1);
    ck_assert_msg(p.t->reuse == 2, "httpprog did not reuse its numbers");
    sleep_ms(3000); /* past the window's end (later is as good) */
    close(c);
    finish(&p, "");
}
END_TEST

START_TEST(http_fork_child_serves_only_if_asked)
{
    for (int per_process = 0; per_process < 2; per_process++) {
        prog p;
        const char *sockdir = h_fresh_dir("http_fork_sock");
        char env[1100];
        snprintf(env, sizeof env, "MPROF_HTTP=unix:%s/%s", sockdir,
                 per_process ? "s.%p.sock" : "s.sock");
        start_argv(&p, "http_fork", "fork", ENV(env));
        while (!p.t->child)
            sleep_ms(10);
        pid_t child = (pid_t)p.t->child;
        char addr[200];
        sleep_ms(300); /* the child has allocated: a server, if any, is up */
        bool serves = published_addr(child, addr, sizeof addr, per_process ? 10000 : 0);
        ck_assert_msg(serves == (per_process == 1), "child serves: %d", serves);
        ck_assert_int_eq(count_sockets(child), per_process);
        if (serves)
            ck_assert_int_eq(get(addr, "/debug/pprof/heap", NULL), 200);
        finish(&p, "");
    }
}
END_TEST


/* ---- goroutine, threadcreate, peak: test/http/threadsprog ---- */

/* threadsprog's truth (its header): 5 threads parked in parked_here,
 * threadcreate 5 at park_start (all running) and 3 at spawn_short (none),
 * the peak 100 blocks of 100000 bytes at spike_site. */
enum { PARKED = 5, SHORT = 3, SPIKE_N = 100, SPIKE_SIZE = 100000 };

typedef struct tprog {
    run r;
    const char *dir;
    char addr[160];
} tprog;

static void tstart(tprog *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->dir = h_fresh_dir(name);
    run_spec s = {.argv = {IT_BUILD_DIR "/test/http/threadsprog"}, .cwd = p->dir,
                  .env = {"MPROF_OUT=prof", "MPROF_HTTP=127.0.0.1:0", "MPROF_MEM_RATE=1",
                          "MPROF_PEAK_GROWTH=0"}};
    run_start(&p->r, &s);
    ck_assert_msg(run_wait_stdout(&p->r, "ready\n", 20000), "threadsprog not ready: %s",
                  p->r.err.s ? p->r.err.s : "");
    ck_assert_msg(published_addr(p->r.pid, p->addr, sizeof p->addr, 10000),
                  "no published /debug/pprof address");
}

static void tfinish(tprog *p)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/quit", p->dir);
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fclose(f);
    run_finish(&p->r, 30000);
    ck_assert_int_eq(run_exit_code(&p->r), 0);
    const char *out = p->r.out.s ? p->r.out.s : "";
    ck_assert_msg(strncmp(out, "ready\n", 6) == 0 && strstr(out, "done\n") &&
                      strlen(strstr(out, "done\n")) == 5, "%s", out);
    ck_assert_str_eq(p->r.err.s ? p->r.err.s : "", "");
    run_free(&p->r);
}

/* `go tool pprof -raw` of a path of p's server. */
static void pprof_raw(const tprog *p, const char *path, strbuf *out)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cd %s && PPROF_TMPDIR=%s go tool pprof -raw "
             "'http://%s/debug/pprof/%s' 2>&1", p->dir, p->dir, p->addr, path);
    int rc = sh(cmd, out);
    ck_assert_msg(rc == 0 && out->s, "%s: go tool pprof failed:\n%s", path, out->s ? out->s : "");
}

/* In -raw's text: the sum of value k of the samples whose stack holds
 * function fn (read from its Locations), or -1 if none does. */
static long long raw_sum(const char *raw, const char *fn, int k)
{
    int ids[64], nids = 0;
    const char *loc = strstr(raw, "\nLocations\n");
    for (const char *l = loc; l && *l && nids < 64; l = strchr(l + 1, '\n')) {
        int id;
        char name[256];
        if (sscanf(l, " %d: 0x%*x M=%*d %255s", &id, name) == 2 && strcmp(name, fn) == 0)
            ids[nids++] = id;
    }
    long long sum = -1;
    const char *smp = strstr(raw, "\nSamples:\n");
    for (const char *l = smp ? strchr(smp + 10, '\n') : NULL; l && l < loc; l = strchr(l + 1, '\n')) {
        const char *colon = strchr(l + 1, ':'), *eol = strchr(l + 1, '\n');
        long long v[4];
        int nv = sscanf(l + 1, "%lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3]);
        if (!colon || !eol || colon > eol || nv <= k || strstr(l + 1, ":[") == colon)
            continue;
        char rest[1024];
        snprintf(rest, sizeof rest, "%.*s ", (int)(eol - colon - 1), colon + 1);
        for (int i = 0; i < nids; i++) {
            char key[24];
            snprintf(key, sizeof key, " %d ", ids[i]);
            if (strstr(rest, key)) {
                sum = (sum < 0 ? 0 : sum) + v[k];
                break;
            }
        }
    }
    return sum;
}

/* go tool pprof reads goroutine (threads), threadcreate and peak from a
 * live program, each with its known truth.  A parked thread is in its
 * wait for good, but may not have reached the kernel at the first look
 * (it is then [running]): goroutine is asked again until it shows all. */
START_TEST(http_go_pprof_reads_threads_threadcreate_peak)
{
    tprog p;
    tstart(&p, "http_threads_pprof");
    strbuf out = {0};
    long long parked = -1;
    for (int tries = 0; tries < 100 && parked != PARKED; tries++) {
        sb_free(&out);
        pprof_raw(&p, "goroutine", &out);
        parked = raw_sum(out.s, "parked_here", 0);
        if (parked != PARKED)
            sleep_ms(100);
    }
    ck_assert_msg(parked == PARKED, "goroutine: %lld threads in parked_here:\n%s", parked, out.s);
    ck_assert_msg(strstr(out.s, "PeriodType: threads count") && strstr(out.s, "wait:[pthread_cond_wait]"),
                  "%s", out.s);
    /* mprof's own threads (its thread, the server) are not the program's */
    ck_assert_msg(!strstr(out.s, "thread:[mprof"), "mprof's threads listed:\n%s", out.s);
    sb_free(&out);
    pprof_raw(&p, "threadcreate", &out);
    ck_assert_msg(raw_sum(out.s, "park_start", 0) == PARKED && raw_sum(out.s, "park_start", 1) == PARKED &&
                      raw_sum(out.s, "spawn_short", 0) == SHORT && raw_sum(out.s, "spawn_short", 1) == 0,
                  "threadcreate:\n%s", out.s);
    sb_free(&out);
    pprof_raw(&p, "peak", &out);
    ck_assert_msg(raw_sum(out.s, "spike_site", 0) == SPIKE_N &&
                      raw_sum(out.s, "spike_site", 1) == (long long)SPIKE_N * SPIKE_SIZE,
                  "peak:\n%s", out.s);
    sb_free(&out);
    tfinish(&p);
}
END_TEST

/* How many times needle occurs in s. */
static int occurrences(const char *s, const char *needle)
{
    int n = 0;
    for (const char *q = s; q && (q = strstr(q, needle)); q += strlen(needle))
        n++;
    return n;
}

/* curl: goroutine?debug=1 is Go's count text (5 threads at one stack),
 * debug=2 lists each thread; threadcreate?debug=1 counts exactly; the
 * index lists the three. */
START_TEST(http_curl_goroutine_and_threadcreate_text)
{
    tprog p;
    tstart(&p, "http_threads_curl");
    char cmd[600];
    strbuf out = {0};
    bool all = false;
    for (int tries = 0; tries < 100 && !all; tries++) { /* parked: see above */
        sb_free(&out);
        snprintf(cmd, sizeof cmd, "curl -s 'http://%s/debug/pprof/goroutine?debug=1'", p.addr);
        ck_assert_int_eq(sh(cmd, &out), 0);
        all = out.s && strstr(out.s, "\n5 @ ");
        if (!all)
            sleep_ms(100);
    }
    ck_assert_msg(all && strncmp(out.s, "goroutine profile: total ", 25) == 0 &&
                      strstr(out.s, "\tparked_here\n") &&
                      strstr(out.s, "\"thread\":\"threadsprog\", \"wait\":\"pthread_cond_wait\"}"),
                  "goroutine?debug=1:\n%s", out.s ? out.s : "");
    sb_free(&out);
    snprintf(cmd, sizeof cmd, "curl -s 'http://%s/debug/pprof/goroutine?debug=2'", p.addr);
    ck_assert_int_eq(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strncmp(out.s, "thread ", 7) == 0 &&
                      occurrences(out.s, "\"threadsprog\" [sleeping] in pthread_cond_wait on cv (0x") == PARKED &&
                      occurrences(out.s, "\nparked_here(...)\n") == PARKED,
                  "goroutine?debug=2:\n%s", out.s ? out.s : "");
    sb_free(&out);
    snprintf(cmd, sizeof cmd, "curl -s 'http://%s/debug/pprof/threadcreate?debug=1'", p.addr);
    ck_assert_int_eq(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strncmp(out.s, "threadcreate profile: total 8\n5 @ ", 34) == 0 &&
                      strstr(out.s, "\tpark_start\n") && strstr(out.s, "\n3 @ ") &&
                      strstr(out.s, "\tspawn_short\n"),
                  "threadcreate?debug=1:\n%s", out.s ? out.s : "");
    sb_free(&out);
    snprintf(cmd, sizeof cmd, "curl -s 'http://%s/debug/pprof/'", p.addr);
    ck_assert_int_eq(sh(cmd, &out), 0);
    ck_assert_msg(out.s && strstr(out.s, "href='goroutine?debug=1'") &&
                      strstr(out.s, "href='threadcreate?debug=1'") && strstr(out.s, "href='peak?debug=1'") &&
                      strstr(out.s, "<a href=\"goroutine?debug=2\">full goroutine stack dump</a>") &&
                      strstr(out.s, "threadcreate: </div> Stack traces that led to the creation of new OS threads"),
                  "index:\n%s", out.s ? out.s : "");
    sb_free(&out);
    tfinish(&p);
}
END_TEST

/* A profile body (gzipped pprof), saved in p's directory and read back. */
static void read_body(const tprog *p, const strbuf *body, mprof_pprof_profile *pp)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/body.pb.gz", p->dir);
    save(body, path);
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(pp, path, err, sizeof err) == 0, "%s", err);
}

/* The samples of a profile body whose stack holds fn. */
static int samples_at(const tprog *p, const strbuf *body, const char *fn, int64_t *duration)
{
    mprof_pprof_profile pp;
    read_body(p, body, &pp);
    int n = 0;
    for (size_t i = 0; i < pp.nsample; i++)
        for (size_t j = 0; j < pp.sample[i].nlocation_id; j++)
            n += strcmp(leaf_name(&pp, &pp.sample[i], j), fn) == 0;
    *duration = pp.duration_nanos;
    mprof_pprof_free(&pp);
    return n;
}

/* The sum of value k of the samples of a profile body whose stack holds fn. */
static int64_t value_at(const tprog *p, const strbuf *body, const char *fn, int k)
{
    mprof_pprof_profile pp;
    read_body(p, body, &pp);
    int64_t sum = 0;
    for (size_t i = 0; i < pp.nsample; i++)
        for (size_t j = 0; j < pp.sample[i].nlocation_id; j++)
            if (strcmp(leaf_name(&pp, &pp.sample[i], j), fn) == 0) {
                sum += pp.sample[i].value[k];
                break;
            }
    mprof_pprof_free(&pp);
    return sum;
}

/* One round: a threadcreate?seconds=2 request is sent, then the program
 * starts and joins 4 threads at late_spawn; the answer's values there. */
static void spawn_round(tprog *p, int round, int64_t *created, int64_t *inuse)
{
    int fd = connect_to(p->addr);
    static const char req[] = "GET /debug/pprof/threadcreate?seconds=2 HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert(write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1));
    char path[1200], want[32];
    snprintf(path, sizeof path, "%s/spawn", p->dir);
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fclose(f);
    snprintf(want, sizeof want, "spawned %d\n", round);
    ck_assert(run_wait_stdout(&p->r, want, 20000));
    strbuf all = {0}, body = {0};
    read_all(fd, &all);
    close(fd);
    const char *b = all.s ? strstr(all.s, "\r\n\r\n") : NULL;
    ck_assert_msg(b && strncmp(all.s, "HTTP/1.1 200", 12) == 0, "%s", all.s ? all.s : "");
    sb_append(&body, b + 4, all.len - (size_t)(b + 4 - all.s));
    *created = value_at(p, &body, "late_spawn", 0);
    *inuse = value_at(p, &body, "late_spawn", 1);
    sb_free(&all);
    sb_free(&body);
}

/* ?seconds=N of threadcreate holds exactly the creations of its window:
 * 4 at late_spawn, none of them running, never the running total (8,
 * 12, ...), in two rounds.  On a busy machine the window may open after
 * some of the spawning or close before its end (it then holds fewer, or
 * one still running): such a round is done again. */
START_TEST(http_threadcreate_seconds_holds_the_window)
{
    tprog p;
    tstart(&p, "http_threadcreate_window");
    for (int want_rounds = 2, round = 1, exact = 0; exact < want_rounds; round++) {
        ck_assert_msg(round <= 12, "no window held its 4 creations exactly");
        int64_t created, inuse;
        spawn_round(&p, round, &created, &inuse);
        /* a window that closes mid-round holds a thread still running */
        ck_assert_msg(created >= 0 && created <= 4 && inuse >= 0 && inuse <= 1,
                      "round %d: %lld created, %lld running at late_spawn", round,
                      (long long)created, (long long)inuse);
        exact += created == 4 && inuse == 0;
    }
    tfinish(&p);
}
END_TEST

/* ?seconds=N: threadcreate and goroutine are differenced as Go does (a
 * window in which no thread starts or changes holds no sample where the
 * whole profile has them); peak is whole only, and says so as Go does. */
START_TEST(http_threads_seconds_as_go)
{
    tprog p;
    tstart(&p, "http_threads_seconds");
    strbuf body = {0};
    int64_t dur;
    ck_assert_int_eq(get(p.addr, "/debug/pprof/threadcreate", &body), 200);
    ck_assert_int_eq(samples_at(&p, &body, "park_start", &dur), 1);
    sb_free(&body);
    ck_assert_int_eq(get(p.addr, "/debug/pprof/threadcreate?seconds=1", &body), 200);
    ck_assert_int_eq(samples_at(&p, &body, "park_start", &dur), 0);
    ck_assert_int_eq(samples_at(&p, &body, "spawn_short", &dur), 0);
    ck_assert_msg(dur >= 1000000000LL, "duration %lld", (long long)dur);
    sb_free(&body);
    /* the parked threads stay parked: no change at parked_here (a thread
     * still on its way into the kernel at the first snapshot would be
     * one; ask again) */
    int changed = 1;
    for (int tries = 0; tries < 10 && changed; tries++) {
        ck_assert_int_eq(get(p.addr, "/debug/pprof/goroutine?seconds=1", &body), 200);
        changed = samples_at(&p, &body, "parked_here", &dur);
        sb_free(&body);
    }
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(get(p.addr, "/debug/pprof/peak?seconds=1", &body), 400);
    ck_assert_str_eq(body.s, "\"seconds\" parameter is not supported for this profile type\n");
    sb_free(&body);
    ck_assert_int_eq(get(p.addr, "/debug/pprof/goroutine?seconds=1&debug=1", &body), 400);
    ck_assert_str_eq(body.s, "seconds and debug params are incompatible\n");
    sb_free(&body);
    tfinish(&p);
}
END_TEST

int main(void)
{
    run_default_env("MPROF_MEM_RATE=4096"); /* a short run has samples to dump */
    Suite *s = suite_create("http");
    add_tests(s, 120, TESTS(http_go_pprof_reads_every_profile, http_mprof_top_and_diff_read_urls,
                            http_curl_index_and_text,
                            http_delta_seconds_is_exactly_the_window, http_unix_socket_mode_0600,
                            http_bad_setting_is_one_line, http_port_in_use_is_one_line,
                            http_hostile_clients_change_nothing,
                            http_fork_child_serves_only_if_asked,
                            http_thread_and_descriptors_stay_apart,
                            http_window_on_reused_number_writes_nothing,
                            http_go_pprof_reads_threads_threadcreate_peak,
                            http_curl_goroutine_and_threadcreate_text, http_threads_seconds_as_go,
                            http_threadcreate_seconds_holds_the_window));
    return run_built_suite(s);
}
