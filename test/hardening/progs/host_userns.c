/*
 * host_userns: calls the kernel allows only in a single-threaded process.
 *
 *   host_userns --unshare|--setns [--child] [--alloc N]
 *
 *   --unshare  unshare(CLONE_NEWUSER), as sandboxes and rootless container
 *              tools do, then maps the process's uid and gid into the new
 *              namespace (as `unshare -r` does), so that it can still
 *              create files where it could before;
 *   --setns    setns() into its own mount namespace (needs CAP_SYS_ADMIN),
 *              as `nsenter -m` does;
 *   --child    fork first and make the call in the child, which reports and
 *              exits with exit() (its exit handlers run); the parent exits
 *              with the child's status;
 *   --alloc N  allocate N blocks of 512 bytes at userns_before, kept, before
 *              the fork and the call, and N more at userns_after after the
 *              call, in the process that made it.
 *
 * The process that makes the call prints "pid <pid>", "<call> ok" or
 * "<call> failed: <error>" and the truth of its sites (phase 1); with
 * --child the parent then prints "parent <pid>" and the truth of
 * userns_before, which is its own (phase 2).  Exits 0, or 3 if the call
 * failed.
 */
#include "hprog.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>

#define BLOCK 512

enum { BEFORE_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *userns_before(void)
{
    return prog_check(malloc(BLOCK), "malloc");
}

enum { AFTER_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *userns_after(void)
{
    return prog_check(malloc(BLOCK), "malloc");
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int do_unshare(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER) != 0)
        return errno;
    char map[64];
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0)
        return errno;
    if (write_file("/proc/self/setgroups", "deny\n") != 0 && errno != ENOENT)
        return errno;
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0)
        return errno;
    return 0;
}

static int do_setns(void)
{
    int fd = open("/proc/self/ns/mnt", O_RDONLY);
    if (fd < 0)
        return errno;
    int rc = setns(fd, CLONE_NEWNS) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static int call(bool unshare_it, long n, bool child)
{
    dprintf(1, "pid %d\n", (int)getpid());
    const char *what = unshare_it ? "unshare(CLONE_NEWUSER)" : "setns(CLONE_NEWNS)";
    int err = unshare_it ? do_unshare() : do_setns();
    if (err)
        dprintf(1, "%s failed: %s\n", what, strerror(err));
    else
        dprintf(1, "%s ok\n", what);
    void **keep = prog_slots((size_t)n + 1);
    for (long i = 0; i < n; i++)
        keep[i] = userns_after();
    if (!child)
        prog_truth(1, "userns_before", BLOCK, (size_t)n, (size_t)n, __FILE__, BEFORE_LINE);
    prog_truth(1, "userns_after", BLOCK, (size_t)n, (size_t)n, __FILE__, AFTER_LINE);
    return err ? 3 : 0;
}

int main(int argc, char **argv)
{
    bool unshare_it = hp_flag(argc, argv, "--unshare");
    if (!unshare_it && !hp_flag(argc, argv, "--setns"))
        return 2;
    long n = hp_long(argc, argv, "--alloc", 0);
    void **keep = prog_slots((size_t)n + 1);
    for (long i = 0; i < n; i++)
        keep[i] = userns_before();
    if (!hp_flag(argc, argv, "--child"))
        return call(unshare_it, n, false);
    pid_t pid = fork();
    if (pid < 0)
        prog_fail("fork");
    if (pid == 0)
        exit(call(unshare_it, n, true));
    int st;
    if (waitpid(pid, &st, 0) != pid)
        prog_fail("waitpid");
    dprintf(1, "parent %d\n", (int)getpid());
    prog_truth(2, "userns_before", BLOCK, (size_t)n, (size_t)n, __FILE__, BEFORE_LINE);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
