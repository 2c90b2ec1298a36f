/*
 * host_clean_cxx: an ordinary C++ program with nothing unusual about it.
 *
 *   host_clean_cxx
 *
 * Threads build strings and vectors, share a std::mutex, wait on a
 * std::condition_variable with a timeout (pthread_cond_clockwait in GCC 12)
 * and throw and catch exceptions; the program reports progress on std::cerr
 * and its result on std::cout.  Under the profiler its stderr must stay
 * exactly what it is bare.
 */
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex m;
std::condition_variable cv;
std::map<std::string, long> counts;
long produced = 0;

void work(int id)
{
    for (int i = 0; i < 2000; i++) {
        auto v = std::make_unique<std::vector<std::string>>();
        for (int k = 0; k < 4; k++)
            v->push_back("item-" + std::to_string(id) + "-" + std::to_string(i * 4 + k));
        try {
            if (i % 100 == 99)
                throw std::runtime_error("every hundredth: " + v->back());
        } catch (const std::exception &e) {
            std::lock_guard<std::mutex> g(m);
            counts["caught"]++;
        }
        std::lock_guard<std::mutex> g(m);
        counts["items"] += static_cast<long>(v->size());
        produced++;
        cv.notify_one();
    }
}

} // namespace

int main()
{
    std::cerr << "host_clean_cxx: starting 4 threads" << std::endl;
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
        ts.emplace_back(work, i);
    {
        std::unique_lock<std::mutex> l(m);
        while (produced < 4 * 2000)
            cv.wait_for(l, std::chrono::milliseconds(50));
    }
    for (auto &t : ts)
        t.join();
    std::cerr << "host_clean_cxx: " << counts["items"] << " items, " << counts["caught"]
              << " exceptions caught" << std::endl;
    std::cout << "items " << counts["items"] << "\ncaught " << counts["caught"] << std::endl;
    return 0;
}
