/*
 * outfiles.c: see outfiles.h. The library names its files
 * "%s.%d.%u.%s.pb.gz" (core/record/dump.c) and writes each through "<name>.tmp".
 */
#include "outfiles.h"

#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const outfile_kinds[NKINDS] = {"heap", "block", "mutex"};

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

/* A positive decimal number and the '.' after it. */
static bool number_dot(const char **s, long *v)
{
    char *end;
    if (**s < '0' || **s > '9')
        return false;
    errno = 0;
    *v = strtol(*s, &end, 10);
    if (errno || *end != '.')
        return false;
    *s = end + 1;
    return true;
}

/* "<base>.<pid>.<seq>.<kind>.pb.gz[.tmp]" */
static bool parse_name(const char *name, const char *base, outfile *f)
{
    size_t blen = strlen(base);
    if (strncmp(name, base, blen) != 0 || name[blen] != '.')
        return false;
    const char *s = name + blen + 1;
    if (!number_dot(&s, &f->pid) || !number_dot(&s, &f->seq))
        return false;
    for (int k = 0; k < NKINDS; k++) {
        size_t klen = strlen(outfile_kinds[k]);
        if (strncmp(s, outfile_kinds[k], klen) != 0 || strncmp(s + klen, ".pb.gz", 6) != 0)
            continue;
        const char *rest = s + klen + 6;
        if (*rest && strcmp(rest, ".tmp") != 0)
            return false;
        f->kind = k;
        f->tmp = *rest != '\0';
        return true;
    }
    return false;
}

static int cmp_outfile(const void *a, const void *b)
{
    const outfile *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->tmp - y->tmp;
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
