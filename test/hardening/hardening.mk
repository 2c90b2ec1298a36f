# test/hardening: mprof must never be the reason a host program fails.
#
#   make check-hardening   stress and fault tests (~90 s; part of make check)
#   make check-world       real Debian programs and CPython's own regression
#                          tests, bare vs under mprof (~2 min, more if
#                          a test hangs: 30 s each)
#   make check-cpython     only the CPython part (~80 s)
#
# check-sanitize, fuzz and lint are in test/quality/quality.mk.
#
# One test:  make check-hardening CK_RUN_CASE=<name>

HARD_DIR := $(B)/test/hardening
HARD_SRC := test/hardening

.PHONY: check-hardening check-world hardening-programs check-cpython
CHECKS += check-hardening

# ---------------------------------------------------------------------------
# Programs run under the profiler, and the fault-injection shim.

HARD_PROG_C   := $(wildcard $(HARD_SRC)/progs/*.c)
HARD_PROG_CXX := $(wildcard $(HARD_SRC)/progs/*.cc)
HARD_PROGS    := $(HARD_PROG_C:$(HARD_SRC)/progs/%.c=$(HARD_DIR)/%) \
                 $(HARD_PROG_CXX:$(HARD_SRC)/progs/%.cc=$(HARD_DIR)/%)

$(HARD_DIR)/%: $(HARD_SRC)/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -ldl

$(HARD_DIR)/%: $(HARD_SRC)/progs/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -Itest/programs -o $@ $<

# The library that dlopen_churn loads and unloads.
$(HARD_DIR)/libhplugin.so: $(HARD_SRC)/lib/hplugin.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

# LD_PRELOADed in front of libmprof.so: makes mprof's own write/rename/mmap
# calls fail on demand (see the file's comment).
$(HARD_DIR)/libhfault.so: $(HARD_SRC)/lib/hfault.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $< -ldl

# The same library without debug info (no -g, stripped): looking for its
# debug info at dump time must stay on this machine.
$(HARD_DIR)/libhplugin_nodebug.so: $(HARD_SRC)/lib/hplugin.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -g,$(TEST_CFLAGS)) -fPIC -shared -s -o $@ $<

hardening-programs: $(HARD_PROGS) $(HARD_DIR)/libhplugin.so $(HARD_DIR)/libhplugin_nodebug.so \
                    $(HARD_DIR)/libhfault.so

# ---------------------------------------------------------------------------
# check-hardening: a Check suite that reuses the integration harness.  It
# links core/ for mprof's own profile reader, which validates every one of
# the hundreds of files a signal storm leaves in a few milliseconds each;
# `go tool pprof` reads a selection of them.

HARD_BIN := $(HARD_DIR)/test_hardening
# What every suite here links besides its own file.
HARD_LIB := $(HARD_DIR)/hutil.o $(TEST_HARNESS) $(CORE_OBJ)

$(HARD_BIN): $(HARD_DIR)/test_hardening.o $(HARD_LIB)
	$(TEST_LINK) $(LIBS)

# A run killed in the middle may leave its tmpfs mounts behind.
check-hardening: $(LIBMPROF) programs hardening-programs $(HARD_BIN) $(HARD_DIR)/test_core_stress
	$(HARD_DIR)/test_core_stress
	@awk '$$2 ~ "^$(abspath $(HARD_DIR))/work/" {print $$2}' /proc/mounts | \
	    xargs -r umount -l 2>/dev/null || true
	@rm -rf $(HARD_DIR)/work
	$(HARD_BIN)

# test_signal: the dump signal as the program sees it (issue 10, item 9),
# run as part of check-hardening; CK_RUN_CASE=<name> works for it too.
$(HARD_DIR)/test_signal: $(HARD_DIR)/test_signal.o $(HARD_LIB)
	$(TEST_LINK) $(LIBS)

.PHONY: check-signal
check-signal: $(LIBMPROF) programs hardening-programs $(HARD_DIR)/test_signal
	$(HARD_DIR)/test_signal
check-hardening: check-signal

# core/ alone under many threads (also built with sanitizers, below).
$(HARD_DIR)/test_core_stress: $(HARD_DIR)/test_core_stress.o $(CORE_OBJ)
	$(TEST_LINK) $(LIBS)

# ---------------------------------------------------------------------------
# check-world: real programs from Debian, bare and under mprof (world.sh),
# then CPython's own regression tests for posix, subprocess, threading and
# thread signals, test by test (cpython.py).  Both parts always run; the
# target fails if either does.  Debian's python3 runs the harness, as it
# runs the tests: the testsuite package belongs to it.

$(HARD_DIR)/world_cxx: $(HARD_SRC)/world/world_cxx.cc
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -o $@ $<

check-world: $(LIBMPROF) $(TOOL) $(HARD_DIR)/world_cxx
	@rc=0; \
	sh $(HARD_SRC)/world/world.sh $(abspath $(B)) $(abspath $(HARD_SRC)/world) || rc=1; \
	/usr/bin/python3 $(HARD_SRC)/world/cpython.py $(abspath $(B)) || rc=1; \
	exit $$rc

check-cpython: $(LIBMPROF) $(TOOL)
	/usr/bin/python3 $(HARD_SRC)/world/cpython.py $(abspath $(B))

# ---------------------------------------------------------------------------
# test_host: the program under mprof behaves as bare, for every kind of harm
# in issue 10 (descriptors, errno, exit from a signal handler, small stacks,
# the stack budget, fork while sampling, SIGTERM in malloc, main's
# pthread_exit, namespaces and set*id, short-lived processes, clean stderr).
# Its programs are progs/host_*.  It runs first in check-hardening; alone:
# make check-host [CK_RUN_CASE=host_<kind>].

HOST_BIN := $(HARD_DIR)/test_host

$(HOST_BIN): $(HARD_DIR)/test_host.o $(HARD_LIB)
	$(TEST_LINK) $(LIBS)

.PHONY: check-host
check-host: $(LIBMPROF) hardening-programs $(HOST_BIN)
	$(HOST_BIN)

check-hardening: check-host

-include $(addsuffix .d,$(basename $(HARD_PROGS) $(HARD_DIR)/libhplugin.so \
             $(HARD_DIR)/libhplugin_nodebug.so $(HARD_DIR)/libhfault.so $(HARD_DIR)/world_cxx)) \
         $(patsubst $(HARD_SRC)/%.c,$(HARD_DIR)/%.d,$(wildcard $(HARD_SRC)/*.c))
