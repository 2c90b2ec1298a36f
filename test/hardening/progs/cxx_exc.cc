// cxx_exc: C++ exceptions thrown through sampled frames, on several threads.
//
//   cxx_exc [--threads T] [--iters N] [--depth D]
//
// Each iteration takes a contended std::mutex, recurses D frames of
// exc_frame (each allocates a Payload of PAYLOAD_SIZE bytes owned by a
// unique_ptr), and throws from the bottom; unwinding frees every Payload
// and unlocks the mutex from a landing pad, where mprof's unlock wrapper
// may capture a stack in the middle of exception propagation.  Every 8th
// iteration the exception goes to main through std::exception_ptr and is
// rethrown there.  Prints deterministic counts, "verify ok", "done".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#define SITE __attribute__((noinline, noclone))

namespace {

struct Payload {
    uint64_t v[9];
};
static_assert(sizeof(Payload) == 72, "PAYLOAD_SIZE");

struct Boom : std::runtime_error {
    uint64_t sum;
    Boom(const std::string &what, uint64_t s) : std::runtime_error(what), sum(s) {}
};

std::mutex g_mu;
std::mutex g_ptr_mu;
std::vector<std::exception_ptr> g_ptrs;

SITE void exc_throw(uint64_t sum)
{
    throw Boom("boom: a message long enough to need the heap", sum);
}

SITE uint64_t exc_frame(int depth, uint64_t acc)
{
    std::unique_ptr<Payload> p(new Payload);
    for (int i = 0; i < 9; i++)
        p->v[i] = acc + (uint64_t)depth * 7 + (uint64_t)i;
    acc += p->v[8];
    if (depth == 0)
        exc_throw(acc);
    if (depth < 0)
        return acc; // never: keeps GCC from calling the recursion infinite
    uint64_t r = exc_frame(depth - 1, acc);
    return r + p->v[0]; // not reached; keeps the frame and its destructor
}

struct Stats {
    uint64_t caught = 0, sum = 0;
};

void worker(int t, int iters, int depth, Stats *st)
{
    for (int i = 0; i < iters; i++) {
        try {
            std::lock_guard<std::mutex> g(g_mu);
            exc_frame(depth - 1, (uint64_t)t * 1000 + (uint64_t)i);
        } catch (const Boom &b) {
            st->caught++;
            st->sum += b.sum;
            if (i % 8 == 0) {
                std::lock_guard<std::mutex> g(g_ptr_mu);
                g_ptrs.push_back(std::current_exception());
            }
        }
    }
}

long arg(int argc, char **argv, const char *name, long dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0)
            return std::strtol(argv[i + 1], nullptr, 10);
    return dflt;
}

} // namespace

int main(int argc, char **argv)
{
    int threads = (int)arg(argc, argv, "--threads", 4);
    int iters = (int)arg(argc, argv, "--iters", 300);
    int depth = (int)arg(argc, argv, "--depth", 8);
    std::printf("pid %d\n", (int)getpid());
    std::vector<Stats> stats((size_t)threads);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back(worker, t, iters, depth, &stats[(size_t)t]);
    for (auto &th : ts)
        th.join();
    uint64_t caught = 0, sum = 0, rethrown = 0;
    for (const auto &s : stats) {
        caught += s.caught;
        sum += s.sum;
    }
    for (auto &p : g_ptrs) {
        try {
            std::rethrow_exception(p);
        } catch (const Boom &b) {
            rethrown += b.sum % 1000;
        }
    }
    g_ptrs.clear();
    std::printf("caught %llu sum %llu rethrown %zu/%llu\n", (unsigned long long)caught,
                (unsigned long long)sum, (size_t)((iters + 7) / 8 * threads),
                (unsigned long long)rethrown);
    if (caught != (uint64_t)threads * (uint64_t)iters) {
        std::fprintf(stderr, "verify FAILED: caught %llu\n", (unsigned long long)caught);
        return 97;
    }
    // alloc_objects of the Payload site: one per frame per iteration.
    std::printf("payloads %llu size %zu\n",
                (unsigned long long)threads * (unsigned long long)iters * (unsigned long long)depth,
                sizeof(Payload));
    std::printf("verify ok\ndone\n");
    return 0;
}
