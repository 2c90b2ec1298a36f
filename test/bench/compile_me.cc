// compile_me.cc: the input of the compiler workload of `make bench`.
//
// The benchmark runs GCC's C++ compiler proper (cc1plus, from Debian) on
// this file after preprocessing: the standard headers make it parse and
// instantiate a lot of templates, which allocates hard (some 670,000 mallocs
// at -O2 with GCC 12).  Nothing here is ever run.
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

int main(int argc, char **argv)
{
    std::map<std::string, std::vector<int>> m;
    std::unordered_map<int, std::string> u;
    for (int i = 0; i < argc; i++) {
        m[argv[i]].push_back(i);
        u[i] = argv[i];
    }
    std::vector<std::string> keys;
    for (auto &kv : m)
        keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end(), std::greater<std::string>());
    std::ostringstream os;
    for (auto &k : keys)
        os << k << u.size();
    std::cout << os.str() << std::endl;
    return 0;
}
