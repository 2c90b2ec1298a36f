// sigcxx: a C++ program that registers its signal handlers the way LLVM's
// Support library does (clang, lld, every LLVM tool): for each signal it
// handles, sigaction with `old` saved in a table, the saved ones put back
// when it is done.  In between it builds a std::map with new, reports on
// std::cerr as compilers do, and sends itself SIGUSR2 once, which its
// handler counts.
//
//   sigcxx [--raise-at-default]
//
// --raise-at-default: at the end, with the saved dispositions back, it
// raises SIGUSR2 and dies of it, unless what it saved was not SIG_DFL.
//
// Prints "previous <sig> <SIG_DFL|SIG_IGN|function>" per signal, counts,
// "verify ok", "done".  Under mprof everything it prints, on stdout and
// stderr, and its exit status must be what they are without mprof.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

volatile sig_atomic_t g_usr2;

struct Saved {
    int sig;
    struct sigaction old;
};
std::vector<Saved> g_saved;

void on_signal(int sig)
{
    if (sig == SIGUSR2)
        g_usr2++;
}

const char *name_of(void (*h)(int))
{
    if (h == SIG_DFL)
        return "SIG_DFL";
    if (h == SIG_IGN)
        return "SIG_IGN";
    return "function";
}

void register_handlers()
{
    for (int sig : {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_NODEFER | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        Saved s{sig, {}};
        sigaction(sig, &sa, &s.old);
        g_saved.push_back(s);
        std::printf("previous %d %s\n", sig, name_of(s.old.sa_handler));
    }
}

void unregister_handlers()
{
    for (const Saved &s : g_saved)
        sigaction(s.sig, &s.old, nullptr);
    g_saved.clear();
}

__attribute__((noinline)) long build_table()
{
    std::map<std::string, std::vector<int>> table;
    for (int i = 0; i < 2000; i++)
        table["symbol_" + std::to_string(i)].assign(static_cast<size_t>(i % 17 + 1), i);
    long sum = 0;
    for (const auto &kv : table)
        sum += static_cast<long>(kv.second.size());
    return sum;
}

} // namespace

int main(int argc, char **argv)
{
    bool raise_at_default = argc > 1 && std::strcmp(argv[1], "--raise-at-default") == 0;
    std::ios::sync_with_stdio(true);
    register_handlers();
    std::cerr << "sigcxx: building the table" << std::endl;
    long sum = build_table();
    std::raise(SIGUSR2);
    std::cerr << "sigcxx: warning: " << sum << " entries, " << g_usr2 << " SIGUSR2" << std::endl;
    std::printf("sum %ld usr2 %d\n", sum, static_cast<int>(g_usr2));
    std::fflush(stdout);
    bool saved_default = !g_saved.empty() && g_saved.back().old.sa_handler == SIG_DFL;
    unregister_handlers();
    if (raise_at_default && saved_default)
        std::raise(SIGUSR2); // the end, as without mprof
    std::printf("verify ok\ndone\n");
    return 0;
}
