/*
 * httpd.c: the /debug/pprof server's sockets, slots and thread (see
 * httpd.h); what a request gets is endpoints.c's.
 *
 * Every descriptor is checked to be ours (device and inode noted when it
 * was opened) before the thread reads, writes, accepts or closes through
 * it: a program that closes every descriptor (daemons do) and opens a
 * file of its own on the same number must never have that file touched.
 * If the listening socket is gone the thread says so once and stops.
 */
#include "httpd.h"

#include "clock.h"
#include "endpoints.h"
#include "fdmove.h"
#include "httpreq.h"
#include "lock.h"
#include "log.h"
#include "ownthread.h"
#include "publish.h"
#include "threadstacks.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { S_FREE, S_READING, S_WAITING, S_WRITING };

/* A descriptor of ours: its number and what it was when opened. */
struct ownfd {
    int fd;
    dev_t dev;
    ino_t ino;
};

struct slot {
    struct ownfd c;
    int state;
    int64_t deadline;        /* CLOCK_MONOTONIC ns */
    size_t req_len, head_len, sent;
    mprof_reply reply;
    mprof_pending pending;
    char req[MPROF_HTTP_REQ_MAX];
    char head[512];
};

static const mprof_config *config;
static struct ownfd lsock = {-1, 0, 0}, wakefd = {-1, 0, 0};
static struct slot *slots; /* MPROF_HTTP_SLOTS, in a mapping of ours */
static char bound_unix[MPROF_NETADDR_PATH_MAX]; /* to unlink at retire */

static MPROF_FORK_STATE mprof_lock httpd_lock = MPROF_LOCK_INIT;
MPROF_LOCK_RANK(httpd_lock, MPROF_RANK_HTTPD);
static MPROF_FORK_STATE mprof_ownthread own; /* the thread, its stack (ownthread.h) */
static MPROF_FORK_STATE int pause_depth, retired, child_wants;
static atomic_int leave;

#define NS 1000000000LL

/* ---- descriptors ---- */

static int note_fd(int fd, struct ownfd *o)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return -1;
    *o = (struct ownfd){fd, st.st_dev, st.st_ino};
    return 0;
}

static int is_ours(const struct ownfd *o)
{
    struct stat st;
    return o->fd >= 0 && fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
}

static void close_own(struct ownfd *o)
{
    if (is_ours(o))
        close(o->fd);
    o->fd = -1;
}

/* A fresh descriptor moved high (fdmove.h) and noted; -1 if it cannot be. */
static int adopt(int fd, struct ownfd *o)
{
    if (fd < 0)
        return -1;
    int hi = mprof_fd_raise(fd, NULL);
    if (hi < 0)
        return -1;
    if (note_fd(hi, o) < 0) {
        close(hi);
        return -1;
    }
    return 0;
}

/* ---- listening ---- */

/* A unix socket file at path that nobody answers on is a leftover of an
 * earlier run: removed.  One that answers is another server's. */
static int clear_stale(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        errno = EADDRINUSE;
        return -1;
    }
    unlink(path);
    return 0;
}

/* The socket's address: *len bytes at *sa; text for messages in name. */
static int make_addr(struct sockaddr_storage *ss, socklen_t *len, char *name, size_t nsize)
{
    const mprof_netaddr *a = &config->http;
    memset(ss, 0, sizeof *ss);
    if (a->kind == MPROF_NETADDR_UNIX) {
        struct sockaddr_un *su = (struct sockaddr_un *)ss;
        su->sun_family = AF_UNIX;
        if (mprof_netaddr_unix_path(a, (long)getpid(), su->sun_path) < 0)
            return -1;
        *len = sizeof *su;
        snprintf(name, nsize, "unix:%s", su->sun_path);
    } else if (a->kind == MPROF_NETADDR_IP4) {
        struct sockaddr_in *si = (struct sockaddr_in *)ss;
        si->sin_family = AF_INET;
        si->sin_port = htons(a->port);
        memcpy(&si->sin_addr, a->ip, 4);
        *len = sizeof *si;
    } else {
        struct sockaddr_in6 *si = (struct sockaddr_in6 *)ss;
        si->sin6_family = AF_INET6;
        si->sin6_port = htons(a->port);
        memcpy(&si->sin6_addr, a->ip, 16);
        *len = sizeof *si;
    }
    return 0;
}

/* "127.0.0.1:41234" of a bound inet socket, with the port the kernel chose. */
static void inet_name(int fd, char *name, size_t nsize)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *si = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &si->sin_addr, ip, sizeof ip);
        port = ntohs(si->sin_port);
        snprintf(name, nsize, "%s:%u", ip, port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *si = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &si->sin6_addr, ip, sizeof ip);
        port = ntohs(si->sin6_port);
        snprintf(name, nsize, "[%s]:%u", ip, port);
    }
}

/* bind + listen; 0, or -1 with errno. */
static int bind_listen(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    if (ss->ss_family == AF_UNIX) {
        /* Linux gives the socket file the mode of the socket's inode
         * (less the umask): set before bind, the file is never wider
         * than 0600, and the program's umask is left alone. */
        if (fchmod(fd, 0600) < 0 || clear_stale(((const struct sockaddr_un *)ss)->sun_path) < 0)
            return -1;
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
    }
    if (bind(fd, (const struct sockaddr *)ss, len) < 0)
        return -1;
    return listen(fd, 64);
}

static int open_listener(void)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char name[MPROF_NETADDR_PATH_MAX + 8] = "";
    if (make_addr(&ss, &len, name, sizeof name) < 0) {
        mprof_log("MPROF_HTTP: the unix socket path is too long with this pid; not serving");
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind_listen(fd, &ss, len) < 0 || adopt(fd, &lsock) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        mprof_log("MPROF_HTTP: cannot listen (%s); the program runs on without "
                  "/debug/pprof", strerror(e));
        return -1;
    }
    if (ss.ss_family == AF_UNIX)
        memcpy(bound_unix, ((struct sockaddr_un *)&ss)->sun_path, sizeof bound_unix);
    else
        inet_name(lsock.fd, name, sizeof name);
    mprof_publish_http(name);
    return 0;
}

/* ---- one connection ---- */

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static size_t body_len(const mprof_reply *r) { return r->body.data ? r->body.len : r->text_len; }

/* The reply's head, as Go's net/http writes it for these handlers. */
static void start_writing(struct slot *s)
{
    const mprof_reply *r = &s->reply;
    char disp[80] = "";
    if (r->filename[0])
        snprintf(disp, sizeof disp, "Content-Disposition: attachment; filename=\"%s\"\r\n",
                 r->filename);
    int n = snprintf(s->head, sizeof s->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "X-Content-Type-Options: nosniff\r\n%s%sConnection: close\r\n\r\n",
                     r->status, status_text(r->status), r->content_type, body_len(r),
                     r->status == 200 ? "" : "X-Go-Pprof: 1\r\n", disp);
    s->head_len = n < 0 ? 0 : (size_t)n < sizeof s->head ? (size_t)n : sizeof s->head - 1;
    s->sent = 0;
    s->state = S_WRITING;
    s->deadline = mprof_clock_ns(CLOCK_MONOTONIC) + MPROF_HTTP_WRITE_S * NS;
}

static void finish_slot(struct slot *s)
{
    if (s->pending.ep)
        mprof_endpoints_abandon(&s->pending);
    mprof_reply_free(&s->reply);
    if (is_ours(&s->c)) {
        shutdown(s->c.fd, SHUT_RDWR);
        close(s->c.fd);
    }
    s->c.fd = -1;
    s->state = S_FREE;
}

static void reply_static(struct slot *s, int status, const char *text)
{
    s->reply = (mprof_reply){.status = status, .content_type = "text/plain; charset=utf-8",
                             .text = text, .text_len = strlen(text)};
    start_writing(s);
}

/* The head has arrived: route it. */
static void dispatch(struct slot *s, size_t head_len)
{
    mprof_httpreq r;
    if (mprof_httpreq_parse(s->req, head_len, &r) < 0) {
        reply_static(s, 400, "400 Bad Request\n");
        return;
    }
    if (mprof_endpoints_serve(&r, &s->reply, &s->pending) == 1) {
        s->state = S_WAITING;
        s->deadline = s->pending.due_ns;
        return;
    }
    start_writing(s);
}

static void on_readable(struct slot *s)
{
    for (;;) {
        if (s->req_len == sizeof s->req) {
            reply_static(s, 431, "431 Request Header Fields Too Large\n");
            return;
        }
        ssize_t n = recv(s->c.fd, s->req + s->req_len, sizeof s->req - s->req_len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            finish_slot(s);
            return;
        }
        if (n < 0)
            return;
        s->req_len += (size_t)n;
        size_t head = mprof_httpreq_head_len(s->req, s->req_len);
        if (head) {
            dispatch(s, head);
            return;
        }
    }
}

static void on_writable(struct slot *s)
{
    const mprof_reply *r = &s->reply;
    const char *body = r->body.data ? r->body.data : r->text;
    size_t blen = body_len(r);
    while (s->sent < s->head_len + blen) {
        struct iovec iov[2];
        int k = 0;
        if (s->sent < s->head_len)
            iov[k++] = (struct iovec){s->head + s->sent, s->head_len - s->sent};
        size_t boff = s->sent > s->head_len ? s->sent - s->head_len : 0;
        if (blen > boff)
            iov[k++] = (struct iovec){(char *)body + boff, blen - boff};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)k};
        ssize_t n = sendmsg(s->c.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0)
            break;
        s->sent += (size_t)n;
    }
    finish_slot(s);
}

/* ---- the loop ---- */

static void accept_one(void)
{
    int fd = accept4(lsock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct ownfd c;
    if (adopt(fd, &c) < 0)
        return;
    for (int i = 0; i < MPROF_HTTP_SLOTS; i++) {
        struct slot *s = &slots[i];
        if (s->state != S_FREE)
            continue;
        s->c = c;
        s->state = S_READING;
        s->req_len = 0;
        s->deadline = mprof_clock_ns(CLOCK_MONOTONIC) + MPROF_HTTP_READ_S * NS;
        return;
    }
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 20\r\nConnection: close\r\n\r\nmprof: server busy\r\n";
    send(c.fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(c.fd);
}

/* A slot past its deadline: a window ends, anything else is dropped.
 * A waiting slot is polled for POLLRDHUP only, which a number the program
 * closed and reused for a socket of its own may never report: checked
 * here, before its answer is written, as every event is (serve_once). */
static void on_deadline(struct slot *s)
{
    if (!is_ours(&s->c)) {
        s->c.fd = -1; /* not ours any more: forget, never close */
        finish_slot(s);
    } else if (s->state == S_WAITING) {
        mprof_endpoints_finish(&s->pending, &s->reply);
        start_writing(s);
        on_writable(s);
    } else {
        finish_slot(s);
    }
}

static short slot_events(const struct slot *s)
{
    switch (s->state) {
    case S_READING: return POLLIN;
    case S_WAITING: return POLLRDHUP; /* the client may leave meanwhile */
    case S_WRITING: return POLLOUT;
    default: return 0;
    }
}

/* Poll once; 0 to go on, -1 when the listener is no longer ours. */
static int serve_once(void)
{
    struct pollfd pfd[2 + MPROF_HTTP_SLOTS];
    int64_t now = mprof_clock_ns(CLOCK_MONOTONIC), next = now + 3600 * NS;
    /* a wake-up descriptor the program closed and reused is not polled:
     * a file of the program's that stays readable would spin the loop */
    pfd[0] = (struct pollfd){.fd = is_ours(&wakefd) ? wakefd.fd : -1, .events = POLLIN};
    pfd[1] = (struct pollfd){.fd = lsock.fd, .events = POLLIN};
    for (int i = 0; i < MPROF_HTTP_SLOTS; i++) {
        struct slot *s = &slots[i];
        pfd[2 + i] = (struct pollfd){.fd = s->state ? s->c.fd : -1, .events = slot_events(s)};
        if (s->state && s->deadline < next)
            next = s->deadline;
    }
    int64_t wait_ms = (next - now + 999999) / 1000000;
    int n = poll(pfd, 2 + MPROF_HTTP_SLOTS, wait_ms < 0 ? 0 : (int)wait_ms);
    if (n < 0)
        return 0;
    if ((pfd[0].revents & POLLIN) && is_ours(&wakefd))
        (void)!read(wakefd.fd, &(uint64_t){0}, sizeof(uint64_t)); /* a stop: leave looks */
    if (pfd[1].revents && !is_ours(&lsock))
        return -1; /* closed (POLLNVAL), or the number is the program's now */
    if (pfd[1].revents & POLLIN)
        accept_one();
    for (int i = 0; i < MPROF_HTTP_SLOTS; i++) {
        struct slot *s = &slots[i];
        short ev = pfd[2 + i].revents;
        if (!s->state || pfd[2 + i].fd != s->c.fd)
            continue; /* freed, or taken by accept_one this round */
        if (ev && !is_ours(&s->c)) {
            s->c.fd = -1; /* not ours any more: forget, never close */
            finish_slot(s);
        } else if ((ev & POLLIN) && s->state == S_READING) {
            on_readable(s); /* a hang-up too: recv says 0 */
        } else if ((ev & POLLOUT) && s->state == S_WRITING) {
            on_writable(s);
        } else if (ev) { /* an error, or the client left a window */
            finish_slot(s);
        }
        if (s->state && mprof_clock_ns(CLOCK_MONOTONIC) >= s->deadline)
            on_deadline(s);
    }
    return 0;
}

static void *httpd_main(void *arg)
{
    (void)arg;
    mprof_guard_enter();
    prctl(PR_SET_NAME, "mprof-http", 0, 0, 0);
    mprof_threadstacks_own(MPROF_OWN_HTTPD); /* not in the threads profile */
    while (!atomic_load(&leave)) {
        if (serve_once() < 0) {
            mprof_log("MPROF_HTTP: the program closed the listening socket; "
                      "/debug/pprof is no longer served");
            lsock.fd = -1;
            break;
        }
    }
    mprof_guard_exit();
    return NULL;
}

/* ---- the thread's existence (as agent.c's) ---- */

/* With httpd_lock held: 0 or an errno. */
static int start_locked(void)
{
    mprof_lock_assert_held(&httpd_lock);
    if (own.running || pause_depth || retired || lsock.fd < 0)
        return 0;
    atomic_store(&leave, 0);
    int rc = mprof_ownthread_start(&own, httpd_main);
    if (rc)
        mprof_log("MPROF_HTTP: cannot start the server thread (%s)", strerror(rc));
    return rc;
}

static void stop_locked(void)
{
    mprof_lock_assert_held(&httpd_lock);
    if (!own.running)
        return;
    atomic_store(&leave, 1);
    if (is_ours(&wakefd))
        (void)!write(wakefd.fd, &(uint64_t){1}, sizeof(uint64_t));
    mprof_ownthread_join(&own, 0);
}

/* Listener, wake-up and slots; then the thread.  Guard set, lock held. */
static void serve_locked(void)
{
    if (!slots) {
        void *m = mmap(NULL, MPROF_HTTP_SLOTS * sizeof *slots, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            mprof_log("MPROF_HTTP: out of memory; not serving");
            return;
        }
        slots = m;
    }
    if (wakefd.fd < 0 && adopt(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), &wakefd) < 0) {
        mprof_log("MPROF_HTTP: no eventfd (%s); not serving", strerror(errno));
        return;
    }
    if (lsock.fd < 0 && open_listener() < 0)
        return;
    start_locked();
}

void mprof_httpd_start(const mprof_config *cfg)
{
    config = cfg;
    if (cfg->http.kind == MPROF_NETADDR_NONE)
        return;
    int saved = errno;
    mprof_lock_acquire(&httpd_lock);
    serve_locked();
    mprof_lock_release(&httpd_lock);
    errno = saved;
}

void mprof_httpd_want(void)
{
    if (!__atomic_load_n(&child_wants, __ATOMIC_RELAXED))
        return;
    int saved = errno;
    mprof_lock_acquire(&httpd_lock);
    if (child_wants) {
        child_wants = 0;
        serve_locked();
    }
    mprof_lock_release(&httpd_lock);
    errno = saved;
}

/* Run in the program's threads: guard set, errno kept. */
static int enter_locked(void)
{
    int saved = errno;
    mprof_guard_enter();
    mprof_lock_acquire(&httpd_lock);
    return saved;
}

static void leave_locked(int saved)
{
    mprof_lock_release(&httpd_lock);
    mprof_guard_exit();
    errno = saved;
}

void mprof_httpd_pause(void)
{
    if (!config || config->http.kind == MPROF_NETADDR_NONE)
        return;
    int saved = enter_locked();
    pause_depth++;
    stop_locked();
    leave_locked(saved);
}

void mprof_httpd_resume(void)
{
    if (!config || config->http.kind == MPROF_NETADDR_NONE)
        return;
    int saved = enter_locked();
    if (pause_depth > 0 && --pause_depth == 0)
        start_locked();
    leave_locked(saved);
}

void mprof_httpd_retire(void)
{
    if (!config || config->http.kind == MPROF_NETADDR_NONE)
        return;
    int saved = enter_locked();
    retired = 1;
    stop_locked();
    if (bound_unix[0] && is_ours(&lsock)) /* the socket file goes with its server */
        unlink(bound_unix);
    leave_locked(saved);
}

void mprof_httpd_at_exit(void)
{
    int saved = errno;
    /* bound_unix is set before the thread starts and cleared only in a
     * fork child, which has no thread: no lock needed to read it */
    if (bound_unix[0] && is_ours(&lsock))
        unlink(bound_unix);
    errno = saved;
}

void mprof_httpd_after_fork(void)
{
    if (!config || config->http.kind == MPROF_NETADDR_NONE)
        return;
    mprof_lock_reset(&httpd_lock);
    pause_depth = retired = 0;
    mprof_ownthread_after_fork(&own);
    for (int i = 0; slots && i < MPROF_HTTP_SLOTS; i++) {
        if (slots[i].state) {
            close_own(&slots[i].c);
            slots[i].pending = (mprof_pending){0}; /* the parent's snapshots */
            slots[i].reply = (mprof_reply){0};
            slots[i].state = S_FREE;
        }
    }
    close_own(&lsock);
    bound_unix[0] = 0;
    mprof_endpoints_after_fork();
    child_wants = config->http.per_process;
}
