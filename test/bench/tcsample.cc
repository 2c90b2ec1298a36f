/*
 * tcsample: dump tcmalloc's sampled heap profile at exit.
 *
 *   LD_PRELOAD="libtcmalloc.so.4 tcsample.so" TCMALLOC_SAMPLE_PARAMETER=524288 \
 *       TCSAMPLE_OUT=file prog
 *
 * gperftools writes a heap profile from the environment alone only in its
 * full-tracking mode (HEAPPROFILE); the sampled profile exists only through
 * MallocExtension::GetHeapSample, a call the program must make.  This helper
 * makes that call from a destructor, when the program's blocks still held at
 * exit are live, so the benchmark can read the sampled profile with
 * google-pprof without changing the program.
 */
#include <gperftools/malloc_extension.h>

#include <cstdio>
#include <cstdlib>
#include <string>

__attribute__((destructor)) static void tcsample_dump()
{
    const char *out = getenv("TCSAMPLE_OUT");
    if (!out || !*out)
        return;
    std::string s;
    MallocExtension::instance()->GetHeapSample(&s);
    FILE *f = fopen(out, "w");
    if (!f)
        return;
    fwrite(s.data(), 1, s.size(), f);
    fclose(f);
}
