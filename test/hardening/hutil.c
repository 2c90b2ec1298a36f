/* hutil.c: see hutil.h. */
#include "hutil.h"

#include "pprof.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef IT_BUILD_DIR
#error "IT_BUILD_DIR (absolute path of build/) must be defined"
#endif

static const char *build_dir(void)
{
    const char *b = getenv("MPROF_TEST_BUILD");
    return b && *b ? b : IT_BUILD_DIR;
}

const char *hd_path(const char *name)
{
    static char bufs[8][1024];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, sizeof bufs[0], "%s/test/hardening/%s", build_dir(), name);
    return p;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_DP)
        chmod(path, 0755);
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

const char *hd_fresh(const char *name)
{
    static char bufs[8][1024];
    static int next;
    char *dir = bufs[next++ % 8];
    snprintf(dir, sizeof bufs[0], "%s/test/hardening/work/%s", build_dir(), name);
    umount2(dir, MNT_DETACH); /* left over from an interrupted run */
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    h_mkdir_p(dir);
    struct stat st;
    ck_assert_msg(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "cannot create %s", dir);
    return dir;
}

int hd_files(const char *dir, const char *prefix, hd_file *f, int max)
{
    return profile_files(dir, prefix, "", f, max);
}

int hd_count(const hd_file *f, int n, long pid, const char *kind)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += f[i].pid == pid && (!*kind || strcmp(f[i].kind, kind) == 0);
    return c;
}

const hd_file *hd_find(const hd_file *f, int n, long pid, long seq, const char *kind)
{
    for (int i = 0; i < n; i++)
        if (f[i].pid == pid && f[i].seq == seq && strcmp(f[i].kind, kind) == 0)
            return &f[i];
    return NULL;
}

int hd_read(const char *path, char *err, size_t errlen)
{
    mprof_pprof_profile p;
    if (mprof_pprof_read_file(&p, path, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (p.nsample_type == 0) {
        snprintf(err, errlen, "%s: no sample types", path);
        rc = -1;
    }
    mprof_pprof_free(&p);
    return rc;
}

void hd_read_all(const hd_file *f, int n)
{
    char err[1024];
    for (int i = 0; i < n; i++)
        ck_assert_msg(hd_read(f[i].path, err, sizeof err) == 0,
                      "mprof's reader rejects a profile: %s", err);
}

void hd_go_read(const char *path, prof *p)
{
    static char err[4096];
    ck_assert_msg(prof_load(path, p, err, sizeof err) == 0, "%s", err);
}

void hd_comments(const char *path, strbuf *out)
{
    mprof_pprof_profile p;
    char err[512];
    ck_assert_msg(mprof_pprof_read_file(&p, path, err, sizeof err) == 0, "%s", err);
    for (size_t i = 0; i < p.ncomment; i++)
        sb_printf(out, "%s\n", mprof_pprof_string(&p, p.comment[i]));
    if (!out->s)
        sb_append(out, "", 0);
    mprof_pprof_free(&p);
}

void hd_size_sum(const prof *p, long long size, prof_site *out)
{
    memset(out, 0, sizeof *out);
    int ia = prof_index(p, "alloc_objects"), ib = prof_index(p, "alloc_space");
    int ic = prof_index(p, "inuse_objects"), id = prof_index(p, "inuse_space");
    ck_assert_msg(ia >= 0 && ib >= 0 && ic >= 0 && id >= 0, "not a heap profile");
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *s = &p->samples[i];
        if (!s->has_bytes || s->bytes != size)
            continue;
        out->alloc_objects += s->v[ia];
        out->alloc_space += s->v[ib];
        out->inuse_objects += s->v[ic];
        out->inuse_space += s->v[id];
        out->nsamples++;
    }
}

void hd_stable_out(const char *out, strbuf *b)
{
    for (const char *l = out; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l + 1) : strlen(l);
        if (strncmp(l, "pid ", 4) != 0 && strncmp(l, "parent ", 7) != 0)
            sb_append(b, l, len);
        l += len;
    }
    if (!b->s)
        sb_append(b, "", 0);
}

int hd_mprof_lines(const char *s, strbuf *lines)
{
    int n = lines_starting(s, "mprof:", lines);
    if (!lines->s)
        sb_append(lines, "", 0);
    return n;
}

bool hd_mount_tmpfs(const char *dir, const char *opts, bool readonly)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP: not root, no tmpfs mount on %s\n", dir);
        return false;
    }
    if (mount("tmpfs", dir, "tmpfs", readonly ? MS_RDONLY : 0, opts) != 0) {
        fprintf(stderr, "SKIP: mount -t tmpfs -o %s %s: %s\n", opts, dir, strerror(errno));
        return false;
    }
    return true;
}

void hd_umount(const char *dir)
{
    umount2(dir, MNT_DETACH);
}

void hd_run_bare(run *r, const run_spec *s)
{
    run_spec bare = *s;
    memset(bare.env, 0, sizeof bare.env);
    bare.no_preload = true;
    run_checked(r, &bare);
}
