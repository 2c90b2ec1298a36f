// cxx_stl.cc: allocations through the standard library's templates
// (vector growth, map nodes, strings), instantiated and inlined into this
// program. The profile must name them demangled, as addr2line -C does,
// with every inlined frame at its own line.
#include <link.h>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace cache {
struct Entry {
    std::string key;
    std::vector<double> values;
};

class Cache {
  public:
    __attribute__((noipa)) void put(const std::string &k, std::size_t n)
    {
        Entry &e = map_[k];
        e.key = k;
        e.values.resize(n);
    }
    std::size_t size() const { return map_.size(); }

  private:
    std::map<std::string, Entry> map_;
};
} // namespace cache

static int first_object(struct dl_phdr_info *info, std::size_t, void *arg)
{
    *static_cast<std::uintptr_t *>(arg) = info->dlpi_addr;
    return 1;
}

extern "C" char __executable_start[], etext[];

int main()
{
    cache::Cache c;
    std::vector<std::vector<int>> grow;
    for (int i = 0; i < 300; i++) {
        c.put("key-with-a-long-name-" + std::to_string(i), 16 + i);
        grow.emplace_back(static_cast<std::size_t>(i + 1), i);
    }
    std::uintptr_t bias = 0;
    dl_iterate_phdr(first_object, &bias);
    std::printf("bias %#lx text %#lx %#lx entries %zu\n", (unsigned long)bias,
                (unsigned long)__executable_start, (unsigned long)etext, c.size());
    return 0;
}
