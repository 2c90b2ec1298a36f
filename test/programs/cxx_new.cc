/*
 * cxx_new: C++ allocations, which reach the profiler through operator
 * new/delete calling malloc/free.
 *
 *   cxx_new [--div N]
 *
 * Truth lines as in common.h; size 0 means the site allocates several sizes.
 * The vector and string sites learn what libstdc++ allocated by watching
 * capacity(): every change of capacity is one new buffer (and the old one
 * freed), so their truth does not depend on the library's growth policy.
 * The containers themselves are created in main and never destroyed, so
 * that static destructors cannot free them before the exit dump.
 */
#include "common.h"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Obj {
    int64_t a[6];
};

struct Truth {
    size_t alloc_n = 0, alloc_b = 0, inuse_n = 0, inuse_b = 0;
};

int line_new_array, line_new_object, line_vector, line_string;

constexpr size_t ARRAY_LEN = 25; // int64_t[25]: 200 bytes, no array cookie

SITE void cxx_site_new_array(int64_t **s, size_t n, size_t keep)
{
    for (size_t i = 0; i < n; i++) {
        s[i] = new int64_t[ARRAY_LEN]; line_new_array = __LINE__;
        s[i][0] = (int64_t)i;
    }
    for (size_t i = keep; i < n; i++)
        delete[] s[i];
}

SITE void cxx_site_new_object(Obj **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s[i] = new Obj(); line_new_object = __LINE__;
        prog_use(s[i]);
    }
    for (size_t i = 0; i < n; i++)
        delete s[i];
}

SITE void cxx_site_vector(std::vector<int64_t> *v, size_t pushes, Truth *t)
{
    size_t cap = v->capacity();
    for (size_t i = 0; i < pushes; i++) {
        v->push_back((int64_t)i); line_vector = __LINE__;
        if (v->capacity() != cap) {
            cap = v->capacity();
            t->alloc_n++;
            t->alloc_b += cap * sizeof(int64_t);
        }
    }
    t->inuse_n++;
    t->inuse_b += cap * sizeof(int64_t);
}

/* Beyond the small-string buffer, a capacity c takes a block of c + 1. */
SITE void cxx_site_string(std::string *s, size_t pushes, Truth *t)
{
    size_t cap = s->capacity();
    size_t sso = cap;
    for (size_t i = 0; i < pushes; i++) {
        s->push_back((char)('a' + i % 26)); line_string = __LINE__;
        if (s->capacity() != cap) {
            cap = s->capacity();
            t->alloc_n++;
            t->alloc_b += cap + 1;
        }
    }
    if (cap > sso) {
        t->inuse_n++;
        t->inuse_b += cap + 1;
    }
}

/* Exceptions allocate (__cxa_allocate_exception, the message) and are freed
 * when caught; the throw unwinds through cxx_site_throw's frame. */
SITE void cxx_throw_inner(size_t i)
{
    throw std::runtime_error(std::string(64, (char)('a' + i % 26)));
}

SITE size_t cxx_site_throw(size_t i)
{
    cxx_throw_inner(i);
    return i; /* not reached; keeps the call from being a tail call */
}

void truth(const char *site, size_t size, const Truth &t, int line)
{
    dprintf(1, "truth 1 %s %zu %zu %zu %zu %zu %s %d\n", site, size, t.alloc_n,
            t.alloc_b, t.inuse_n, t.inuse_b, __FILE__, line);
}

void run_new(size_t div)
{
    size_t n = 20000 / div, keep = 8000 / div, objs = 10000 / div;
    cxx_site_new_array((int64_t **)prog_slots(n), n, keep);
    prog_truth(1, "cxx_site_new_array", ARRAY_LEN * sizeof(int64_t), n, keep,
               __FILE__, line_new_array);
    cxx_site_new_object((Obj **)prog_slots(objs), objs);
    prog_truth(1, "cxx_site_new_object", sizeof(Obj), objs, 0, __FILE__,
               line_new_object);
}

void run_containers(size_t div)
{
    size_t nvec = 200 / div + 1, nstr = 100 / div + 1;
    Truth tv, ts;
    for (size_t i = 0; i < nvec; i++)
        cxx_site_vector(new std::vector<int64_t>(), 1000 + i, &tv);
    truth("cxx_site_vector", 0, tv, line_vector);
    for (size_t i = 0; i < nstr; i++)
        cxx_site_string(new std::string(), 500 + i, &ts);
    truth("cxx_site_string", 0, ts, line_string);
}

size_t run_throws(size_t n)
{
    size_t caught = 0;
    for (size_t i = 0; i < n; i++) {
        try {
            prog_use((void *)cxx_site_throw(i));
        } catch (const std::runtime_error &e) {
            caught += std::strlen(e.what()) == 64;
        }
    }
    return caught;
}

} // namespace

int main(int argc, char **argv)
{
    size_t div = 1;
    if (argc == 3 && std::strcmp(argv[1], "--div") == 0)
        div = std::strtoul(argv[2], nullptr, 10);
    if (div == 0)
        div = 1;
    dprintf(1, "pid %d\n", (int)getpid());
    run_new(div);
    run_containers(div);
    size_t throws = 100;
    size_t caught = run_throws(throws);
    dprintf(1, "throws %zu caught %zu\n", throws, caught);
    dprintf(1, "done\n");
    return caught == throws ? 0 : 1;
}
