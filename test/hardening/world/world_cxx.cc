// world_cxx: a multi-threaded C++ program for check-world (bare vs under
// mprof): a worker pool fed through a mutex + condition variable queue,
// a reader/writer cache under std::shared_mutex, std::async, shared_ptr,
// std::map/unordered_map/string churn and exceptions.  Output is
// deterministic.
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

class Pool {
public:
    explicit Pool(int n)
    {
        for (int i = 0; i < n; i++)
            threads_.emplace_back([this] { run(); });
    }
    ~Pool()
    {
        {
            std::lock_guard<std::mutex> g(m_);
            done_ = true;
        }
        cv_.notify_all();
        for (auto &t : threads_)
            t.join();
    }
    void submit(std::function<void()> f)
    {
        {
            std::lock_guard<std::mutex> g(m_);
            q_.push_back(std::move(f));
        }
        cv_.notify_one();
    }

private:
    void run()
    {
        for (;;) {
            std::function<void()> f;
            {
                std::unique_lock<std::mutex> l(m_);
                cv_.wait(l, [this] { return done_ || !q_.empty(); });
                if (q_.empty())
                    return;
                f = std::move(q_.front());
                q_.pop_front();
            }
            f();
        }
    }
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> q_;
    std::vector<std::thread> threads_;
    bool done_ = false;
};

static std::shared_mutex g_cache_mu;
static std::unordered_map<uint64_t, std::shared_ptr<std::string>> g_cache;

static std::shared_ptr<std::string> lookup(uint64_t k)
{
    {
        std::shared_lock<std::shared_mutex> r(g_cache_mu);
        auto it = g_cache.find(k);
        if (it != g_cache.end())
            return it->second;
    }
    auto v = std::make_shared<std::string>(std::to_string(k * 2654435761u));
    std::unique_lock<std::shared_mutex> w(g_cache_mu);
    return g_cache.emplace(k, v).first->second;
}

static uint64_t task(int id)
{
    std::map<std::string, std::vector<int>> m;
    uint64_t x = (uint64_t)id * 7919 + 1, sum = 0;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        std::string key = "k" + std::to_string(x % 997);
        m[key].push_back(i);
        sum += lookup(x % 4096)->size();
        if (i % 1000 == 999) {
            try {
                if (m.size() % 2)
                    throw std::runtime_error("odd " + key);
            } catch (const std::exception &e) {
                sum += std::string(e.what()).size();
            }
        }
    }
    for (auto &kv : m)
        sum += kv.first.size() * kv.second.size();
    return sum;
}

int main()
{
    const int ntasks = 32;
    std::vector<uint64_t> results(ntasks);
    {
        Pool pool(4);
        for (int i = 0; i < ntasks; i++)
            pool.submit([i, &results] { results[i] = task(i); });
    }
    auto f1 = std::async(std::launch::async, task, 1000);
    auto f2 = std::async(std::launch::async, task, 1001);
    uint64_t total = 0;
    for (int i = 0; i < ntasks; i++) {
        std::printf("task %d %llu\n", i, (unsigned long long)results[i]);
        total += results[i];
    }
    std::printf("async %llu %llu\n", (unsigned long long)f1.get(), (unsigned long long)f2.get());
    std::printf("total %llu cache %zu\n", (unsigned long long)total, g_cache.size());
    return 0;
}
