/* waitcall.c: the names of the wrapped blocking calls (waitcall.h). */
#include "waitcall.h"

#define MPROF_WAITCALL_NAME(e, name) name,
static const char *const names[MPROF_NWAITCALLS] = {MPROF_WAITCALLS(MPROF_WAITCALL_NAME)};

const char *mprof_waitcall_name(int call)
{
    return call >= 0 && call < MPROF_NWAITCALLS ? names[call] : 0;
}
