/*
 * outfiles.c: see outfiles.h. The library names its files through
 * core/output/outname.c and writes each through "<name>.tmp"; both count.
 */
#include "outfiles.h"

#include "tool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void outfiles_split(const char *prefix, char **dir, char **base)
{
    const char *slash = strrchr(prefix, '/');
    if (!slash) {
        *dir = xstrdup(".");
        *base = xstrdup(prefix);
    } else {
        *dir = slash == prefix ? xstrdup("/")
                               : xasprintf("%.*s", (int)(slash - prefix), prefix);
        *base = xstrdup(slash + 1);
    }
}

/* A file of base, of a kind the library writes. */
static bool parse_name(const char *name, const char *base, outfile *f)
{
    if (mprof_outname_match(name, base, &f->n) < 0)
        return false;
    for (int k = 0; k < MPROF_NKINDS; k++)
        if (strcmp(f->n.kind, mprof_outname_kinds[k]) == 0)
            return true;
    return false;
}

static int cmp_outfile(const void *a, const void *b)
{
    const outfile *x = a, *y = b;
    return mprof_outname_cmp(&x->n, &y->n);
}

static void add_entry(outfiles *l, int dfd, const char *name, outfile *f)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return; /* renamed or removed since readdir: not ours to report */
    f->name = xstrdup(name);
    f->mtime = st.st_mtim;
    f->ino = st.st_ino;
    xgrow(&l->f, &l->cap, l->n + 1, sizeof *l->f);
    l->f[l->n++] = *f;
}

int outfiles_list(const char *dir, const char *base, outfiles *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        outfile f = {0};
        if (parse_name(e->d_name, base, &f))
            add_entry(out, dirfd(d), e->d_name, &f);
    }
    closedir(d);
    if (out->n)
        qsort(out->f, out->n, sizeof *out->f, cmp_outfile);
    return 0;
}

void outfiles_free(outfiles *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->f[i].name);
    free(l->f);
    memset(l, 0, sizeof *l);
}

const outfile *outfiles_find(const outfiles *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->f[i].name, name) == 0)
            return &l->f[i];
    return NULL;
}
