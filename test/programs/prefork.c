/*
 * prefork: a server with a process per request whose own allocations
 * took no sample (a postmaster between connections): the parent allocates
 * nothing while its first children run; they allocate at child_site and
 * exit.
 *
 *   prefork [--first N] [--then M]
 *
 * The parent forks N children one after another (default 12: more than
 * the 8 child dumps after which mprof readies a forking parent), then
 * makes one allocation of its own, of 1 byte: in a parent that has
 * recorded nothing, the forking thread's next allocation starts mprof's
 * thread, which readies from what the children's dumps named alone (the
 * allocation is counted after, as any other). Readied, the parent has
 * indexed this program's symbol table, whose strings it maps from the
 * file: one more mapping of this program than the loader made; the
 * parent waits for it at most 30 s. It prints "readied" or "not
 * readied", then forks M more children (default 3), whose exit dumps name
 * their functions through the index.
 *
 * With --big the children allocate 64 blocks of 1 MiB instead, for a run
 * at a large MPROF_MEM_RATE where the children still record and the
 * parent's 1 byte almost surely does not.
 *
 * Output: "child <pid>" per child, "readied" or "not readied" between the
 * two groups, the last child's truth line (phase 2, every child's; not
 * with --big), and "done". Until its one allocation the parent calls no
 * allocator (write, fork, waitpid, reads into buffers of its own), so it
 * records nothing before it, even at MPROF_MEM_RATE=1.
 */
#include "common.h"

#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#define CHILD_N 500
#define CHILD_SIZE 72

#define BIG_N 64
#define BIG_SIZE (1 << 20)

static int line_child, line_big;
static bool big;

PROG_MALLOC_SITE(child_site, CHILD_SIZE, line_child)

PROG_MALLOC_SITE(big_site, BIG_SIZE, line_big)

/* Output without stdio: glibc's dprintf allocates a buffer. */
static void say(const char *s)
{
    if (write(1, s, strlen(s)) < 0)
        prog_fail("write");
}

/* The last child says the truth (the line is known once the site ran). */
static bool fork_children(int n, bool truth)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            prog_fail("fork");
        if (pid == 0) {
            if (big)
                big_site(prog_slots(BIG_N), BIG_N);
            else
                child_site(prog_slots(CHILD_N), CHILD_N);
            dprintf(1, "child %d\n", (int)getpid());
            if (truth && i == n - 1 && !big)
                prog_truth(2, "child_site", CHILD_SIZE, CHILD_N, CHILD_N, __FILE__, line_child);
            exit(0); /* exit, not _exit: the child's exit dump must run */
        }
        int st;
        ok &= waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    return ok;
}

/* Mappings of this program's file in /proc/self/maps. Read with read(2)
 * into static buffers: no stdio, no allocation. */
static int own_mappings(void)
{
    static char exe[4096], buf[1 << 20];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0)
        prog_fail("readlink /proc/self/exe");
    exe[el] = '\0';
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        prog_fail("open /proc/self/maps");
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    int n = 0;
    for (char *line = buf, *end; *line; line = end + 1) {
        if (!(end = strchr(line, '\n')))
            break;
        *end = '\0';
        size_t ll = strlen(line), xl = (size_t)el;
        n += ll > xl && strcmp(line + ll - xl, exe) == 0 && line[ll - xl - 1] == ' ';
    }
    return n;
}

int main(int argc, char **argv)
{
    int first = 12, then = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--big") == 0)
            big = true;
        else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
            first = atoi(argv[++i]);
        else if (strcmp(argv[i], "--then") == 0 && i + 1 < argc)
            then = atoi(argv[++i]);
    }
    int before = own_mappings();
    bool ok = fork_children(first, false);
    free(prog_check(malloc(1), "malloc")); /* readying starts, if asked */
    bool readied = false;
    for (int waited = 0; !(readied = own_mappings() > before) && waited < 30000; waited += 10)
        prog_sleep_ms(10);
    say(readied ? "readied\n" : "not readied\n");
    ok &= fork_children(then, true);
    say(ok ? "done\n" : "children failed\n");
    return ok ? 0 : 1;
}
