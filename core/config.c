/*
 * config.c: parsing of the MPROF_* settings (see config.h).
 *
 * Every setting has a default, a range and a parser; a bad value is reported
 * once and replaced by the default, so a typo never stops the program.
 */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mprof_config_defaults(mprof_config *c)
{
    memset(c, 0, sizeof *c);
    c->mem_rate = 512 * 1024;
    c->block_rate = 10000;
    c->mutex_fraction = 10;
    c->epoch_ms = 100;
    c->dump_interval = 0;
    c->signal = SIGUSR2;
    c->stack_depth = 64;
    c->symbols = MPROF_SYMBOLS_NAMES;
    c->threadcreate = 1;
    c->threads = 1;
    c->peak_growth = 10;
    c->last_words_ms = 2000;
    strcpy(c->out, "mprof");
}

/* Plain decimal, no sign, no trailing garbage: "1e6" or "-1" are typos. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void load_u64(mprof_env_lookup get, void *ctx, const char *name,
                     uint64_t *field, uint64_t min, uint64_t max)
{
    const char *s = get(name, ctx);
    if (!s)
        return;
    uint64_t v;
    if (parse_u64(s, &v) == 0 && v >= min && v <= max) {
        *field = v;
        return;
    }
    mprof_log("%s='%.64s' is not a whole number in [%llu, %llu]; using %llu",
              name, s, (unsigned long long)min, (unsigned long long)max,
              (unsigned long long)*field);
}

static const struct {
    const char *name;
    int sig;
} signal_names[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2},     {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"PROF", SIGPROF},     {"VTALRM", SIGVTALRM},
    {"URG", SIGURG},   {"WINCH", SIGWINCH},   {"PWR", SIGPWR},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"CONT", SIGCONT},     {"TSTP", SIGTSTP},
};

/* Signals that report a fault or cannot be caught are never dump signals. */
static int dump_signal_ok(int sig)
{
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS ||
        sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP ||
        sig == SIGSYS || sig == SIGCHLD || sig == SIGPIPE)
        return 0;
    return sig > 0 && sig <= SIGRTMAX;
}

int mprof_parse_signal(const char *s)
{
    if (strcasecmp(s, "none") == 0)
        return 0;
    uint64_t n;
    if (parse_u64(s, &n) == 0)
        return n <= 64 && dump_signal_ok((int)n) ? (int)n : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (strcasecmp(s, signal_names[i].name) == 0)
            return signal_names[i].sig;
    return -1;
}

static void load_signal(mprof_env_lookup get, void *ctx, mprof_config *c)
{
    const char *s = get("MPROF_SIGNAL", ctx);
    if (!s)
        return;
    int sig = mprof_parse_signal(s);
    if (sig >= 0) {
        c->signal = sig;
        return;
    }
    mprof_log("MPROF_SIGNAL='%.64s' is not a catchable signal name or number "
              "(or 'none'); using %d (SIGUSR2)", s, c->signal);
}

/* none | names | full: what a dump looks up in process. */
static void load_symbols(mprof_env_lookup get, void *ctx, mprof_config *c)
{
    static const char *const names[] = {"none", "names", "full"};
    const char *s = get("MPROF_SYMBOLS", ctx);
    if (!s)
        return;
    for (int i = 0; i < 3; i++)
        if (strcasecmp(s, names[i]) == 0) {
            c->symbols = i;
            return;
        }
    mprof_log("MPROF_SYMBOLS='%.64s' is not none, names or full; using %s", s,
              names[c->symbols]);
}

/* A percentage, or "off": the peak profile's growth step. */
static void load_peak(mprof_env_lookup get, void *ctx, mprof_config *c)
{
    const char *s = get("MPROF_PEAK_GROWTH", ctx);
    uint64_t v;
    if (!s)
        return;
    if (strcasecmp(s, "off") == 0)
        c->peak_growth = MPROF_PEAK_OFF;
    else if (parse_u64(s, &v) == 0 && v <= 10000)
        c->peak_growth = v;
    else
        mprof_log("MPROF_PEAK_GROWTH='%.64s' is not a percentage in [0, 10000] "
                  "(or 'off'); using %llu", s, (unsigned long long)c->peak_growth);
}

static void load_out(mprof_env_lookup get, void *ctx, mprof_config *c)
{
    const char *s = get("MPROF_OUT", ctx);
    if (!s)
        return;
    size_t len = strlen(s);
    if (len > 0 && len < sizeof c->out) {
        memcpy(c->out, s, len + 1);
        return;
    }
    mprof_log("MPROF_OUT='%.64s%s' is %s; using '%s'", s, len > 64 ? "..." : "",
              len ? "too long" : "empty", c->out);
}

/* ADDR:PORT or unix:PATH (netaddr.h); a bad value means no server, since
 * guessing another address could expose the profiler where the user did
 * not mean it to be. */
static void load_http(mprof_env_lookup get, void *ctx, mprof_config *c)
{
    const char *s = get("MPROF_HTTP", ctx);
    if (!s || !*s)
        return;
    const char *why;
    if (mprof_netaddr_parse(s, &c->http, &why) < 0)
        mprof_log("MPROF_HTTP='%.64s': %s; not serving /debug/pprof", s, why);
}

void mprof_config_load(mprof_config *c, mprof_env_lookup get, void *ctx)
{
    uint64_t depth = (uint64_t)c->stack_depth;
    load_u64(get, ctx, "MPROF_MEM_RATE", &c->mem_rate, 0, (uint64_t)1 << 40);
    load_u64(get, ctx, "MPROF_BLOCK_RATE", &c->block_rate, 0, (uint64_t)1 << 50);
    load_u64(get, ctx, "MPROF_MUTEX_FRACTION", &c->mutex_fraction, 0, 1u << 30);
    load_u64(get, ctx, "MPROF_EPOCH_MS", &c->epoch_ms, 1, 3600 * 1000);
    load_u64(get, ctx, "MPROF_DUMP_INTERVAL", &c->dump_interval, 0, 365 * 86400);
    load_u64(get, ctx, "MPROF_STACK_DEPTH", &depth, 1, MPROF_STACK_MAX);
    load_u64(get, ctx, "MPROF_WRITE_EMPTY", &c->write_empty, 0, 1);
    load_u64(get, ctx, "MPROF_SYNC", &c->sync, 0, 1);
    load_u64(get, ctx, "MPROF_THREADCREATE", &c->threadcreate, 0, 1);
    load_u64(get, ctx, "MPROF_THREADS", &c->threads, 0, 2);
    load_u64(get, ctx, "MPROF_MUTEX_HOLD", &c->mutex_hold, 0, 1);
    load_u64(get, ctx, "MPROF_INUSE_INTERVAL", &c->inuse_interval, 0, (uint64_t)1 << 50);
    load_u64(get, ctx, "MPROF_LAST_WORDS", &c->last_words_ms, 0, 60000);
    load_peak(get, ctx, c);
    load_symbols(get, ctx, c);
    c->stack_depth = (int)depth;
    load_signal(get, ctx, c);
    load_out(get, ctx, c);
    load_http(get, ctx, c);
}
