/*
 * measure: run a command, then append its wall time and peak RSS to a file.
 *
 *   measure <result file> <command> [args...]
 *
 * Appends "wall=<seconds> maxrss_kb=<KiB> status=<exit status> end=<s>"
 * to the result file; end is CLOCK_MONOTONIC when the command was reaped
 * (a program that prints its own CLOCK_MONOTONIC time as it leaves main
 * gives the time its exit took, the profiler's exit dump included).  The peak RSS is ru_maxrss of RUSAGE_CHILDREN: the largest
 * resident set of any process in the tree that was waited for (for a
 * wrapper script such as heaptrack's, the largest of the program and its
 * helpers).  Exits with the command's status (128+signal if killed).  Stands
 * in for GNU time's %e and %M without the dependency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: measure <result file> <command> [args...]\n");
        return 2;
    }
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    double end = now(), wall = end - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    FILE *f = fopen(argv[1], "a");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    fprintf(f, "wall=%.6f maxrss_kb=%ld status=%d end=%.6f\n", wall, ru.ru_maxrss, code, end);
    fclose(f);
    return code;
}
