# test/hardening: mprof must never be the reason a host program fails.
#
#   make check-hardening   stress and fault tests (~90 s; part of make check)
#   make check-world       real Debian programs and CPython's own regression
#                          tests, bare vs under mprof (~2 min, more if
#                          a test hangs: 30 s each)
#   make check-cpython     only the CPython part (~80 s)
#   make check-sanitize    core/ unit tests under ASan+UBSan, then TSan
#   make fuzz              libFuzzer on the profile reader (FUZZ_SECONDS=60)
#   make lint              cppcheck and clang-tidy over core/ and preload/
#
# One test:  make check-hardening CK_RUN_CASE=<name>

HARD_DIR := $(B)/test/hardening
HARD_SRC := test/hardening

.PHONY: check-hardening check-world check-sanitize check-asan check-tsan fuzz \
        fuzz-build lint hardening-programs check-cpython
CHECKS += check-hardening

# ---------------------------------------------------------------------------
# Programs run under the profiler, and the fault-injection shim.

HARD_PROG_C   := $(wildcard $(HARD_SRC)/progs/*.c)
HARD_PROG_CXX := $(wildcard $(HARD_SRC)/progs/*.cc)
HARD_PROGS    := $(HARD_PROG_C:$(HARD_SRC)/progs/%.c=$(HARD_DIR)/%) \
                 $(HARD_PROG_CXX:$(HARD_SRC)/progs/%.cc=$(HARD_DIR)/%)
HARD_PROG_HDR := $(HARD_SRC)/progs/hprog.h test/programs/common.h

$(HARD_DIR)/%: $(HARD_SRC)/progs/%.c $(HARD_PROG_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -Itest/programs -o $@ $< -ldl

$(HARD_DIR)/%: $(HARD_SRC)/progs/%.cc $(HARD_PROG_HDR)
	@mkdir -p $(dir $@)
	$(CXX) $(PROG_CXXFLAGS) -Itest/programs -o $@ $<

# The library that dlopen_churn loads and unloads.
$(HARD_DIR)/libhplugin.so: $(HARD_SRC)/lib/hplugin.c
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $<

# LD_PRELOADed in front of libmprof.so: makes mprof's own write/rename/mmap
# calls fail on demand (see the file's comment).
$(HARD_DIR)/libhfault.so: $(HARD_SRC)/lib/hfault.c
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< -ldl

# The same library without debug info (no -g, stripped): looking for its
# debug info at dump time must stay on this machine.
$(HARD_DIR)/libhplugin_nodebug.so: $(HARD_SRC)/lib/hplugin.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -fPIC -shared -s -o $@ $<

hardening-programs: $(HARD_PROGS) $(HARD_DIR)/libhplugin.so $(HARD_DIR)/libhplugin_nodebug.so \
                    $(HARD_DIR)/libhfault.so

# ---------------------------------------------------------------------------
# check-hardening: a Check suite that reuses the integration harness.  It
# links core/ for mprof's own profile reader, which validates every one of
# the hundreds of files a signal storm leaves in a few milliseconds each;
# `go tool pprof` reads a selection of them.

HARD_BIN := $(HARD_DIR)/test_hardening
HARD_TEST_SRC := $(HARD_SRC)/test_hardening.c $(HARD_SRC)/hutil.c \
                 test/integration/harness.c test/integration/prof.c

$(HARD_BIN): $(HARD_TEST_SRC) $(wildcard $(HARD_SRC)/*.h test/integration/*.h) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -DIT_BUILD_DIR='"$(abspath $(B))"' \
	    -Itest/integration -Icore -o $@ $(HARD_TEST_SRC) $(CORE_OBJ) \
	    $$(pkg-config --cflags --libs check) $(LIBS)

# A run killed in the middle may leave its tmpfs mounts behind.
check-hardening: $(LIBMPROF) programs hardening-programs $(HARD_BIN) $(HARD_DIR)/test_core_stress
	$(HARD_DIR)/test_core_stress
	@awk '$$2 ~ "^$(abspath $(HARD_DIR))/work/" {print $$2}' /proc/mounts | \
	    xargs -r umount -l 2>/dev/null || true
	@rm -rf $(HARD_DIR)/work
	$(HARD_BIN)

# test_signal: the dump signal as the program sees it (issue 10, item 9),
# run as part of check-hardening; CK_RUN_CASE=<name> works for it too.
SIG_TEST_SRC := $(HARD_SRC)/test_signal.c $(HARD_SRC)/hutil.c \
                test/integration/harness.c test/integration/prof.c

$(HARD_DIR)/test_signal: $(SIG_TEST_SRC) $(wildcard $(HARD_SRC)/*.h test/integration/*.h) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -DIT_BUILD_DIR='"$(abspath $(B))"' \
	    -Itest/integration -Icore -o $@ $(SIG_TEST_SRC) $(CORE_OBJ) \
	    $$(pkg-config --cflags --libs check) $(LIBS)

.PHONY: check-signal
check-signal: $(LIBMPROF) hardening-programs $(HARD_DIR)/test_signal
	$(HARD_DIR)/test_signal
check-hardening: check-signal

# core/ alone under many threads (also built with sanitizers, below).
$(HARD_DIR)/test_core_stress: $(HARD_SRC)/test_core_stress.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -Icore -o $@ $< $(CORE_OBJ) $$(pkg-config --cflags --libs check) $(LIBS)

# ---------------------------------------------------------------------------
# check-world: real programs from Debian, bare and under mprof (world.sh),
# then CPython's own regression tests for posix, subprocess, threading and
# thread signals, test by test (cpython.py).  Both parts always run; the
# target fails if either does.  Debian's python3 runs the harness, as it
# runs the tests: the testsuite package belongs to it.

$(HARD_DIR)/world_cxx: $(HARD_SRC)/world/world_cxx.cc
	@mkdir -p $(dir $@)
	$(CXX) $(PROG_CXXFLAGS) -o $@ $<

check-world: $(LIBMPROF) $(TOOL) $(HARD_DIR)/world_cxx
	@rc=0; \
	sh $(HARD_SRC)/world/world.sh $(abspath $(B)) $(abspath $(HARD_SRC)/world) || rc=1; \
	/usr/bin/python3 $(HARD_SRC)/world/cpython.py $(abspath $(B)) || rc=1; \
	exit $$rc

check-cpython: $(LIBMPROF) $(TOOL)
	/usr/bin/python3 $(HARD_SRC)/world/cpython.py $(abspath $(B))

# ---------------------------------------------------------------------------
# check-sanitize: core/ and its unit tests rebuilt with sanitizers, each in
# a build directory of its own ($(B)/asan, $(B)/tsan).  UBSan halts on the
# first error (-fno-sanitize-recover), so a finding fails the run.

SAN_BASE := -O1 -g -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -pthread \
            $(WARN) -fvisibility=hidden -ftls-model=initial-exec
SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_tsan := -fsanitize=thread
UNIT_NAMES := $(UNIT_SRC:test/unit/%.c=%)

# $(1): asan or tsan
define SAN_BUILD
$(1)_CORE_OBJ := $$(CORE_SRC:%.c=$$(B)/$(1)/%.o)
$(1)_UNIT_BIN := $$(UNIT_NAMES:%=$$(B)/$(1)/test/unit/%) $$(B)/$(1)/test/hardening/test_core_stress

$$(B)/$(1)/core/%.o: core/%.c $$(wildcard core/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SAN_BASE) $$(SAN_$(1)) -Icore -c $$< -o $$@

$$(B)/$(1)/test/unit/%: test/unit/%.c $$($(1)_CORE_OBJ) $$(wildcard test/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SAN_BASE) $$(SAN_$(1)) -Icore -Itest/unit -o $$@ $$< $$($(1)_CORE_OBJ) \
	    $$$$(pkg-config --cflags --libs check) $$(UNIT_LIBS)

$$(B)/$(1)/test/hardening/test_core_stress: $$(HARD_SRC)/test_core_stress.c $$($(1)_CORE_OBJ)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SAN_BASE) $$(SAN_$(1)) -Icore -o $$@ $$< $$($(1)_CORE_OBJ) \
	    $$$$(pkg-config --cflags --libs check) $$(LIBS)
endef
$(eval $(call SAN_BUILD,asan))
$(eval $(call SAN_BUILD,tsan))

# Check forks every test; a sanitizer report in a child fails that test
# (exitcode), and UBSan's halt makes it a failure rather than a log line.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
            LSAN_OPTIONS=suppressions=$(abspath $(HARD_SRC)/lsan.supp)
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:exitcode=88:second_deadlock_stack=1:history_size=7:suppressions=$(abspath $(HARD_SRC)/tsan.supp)

check-asan: $(asan_UNIT_BIN)
	@set -e; for t in $(asan_UNIT_BIN); do echo "== asan+ubsan $$t"; \
	    CK_DEFAULT_TIMEOUT=300 $(ASAN_ENV) $$t; done

check-tsan: $(tsan_UNIT_BIN)
	@set -e; for t in $(tsan_UNIT_BIN); do echo "== tsan $$t"; \
	    CK_DEFAULT_TIMEOUT=300 $(TSAN_ENV) $$t; done

check-sanitize:
	$(MAKE) check-asan
	$(MAKE) check-tsan

# ---------------------------------------------------------------------------
# fuzz: the profile reader under libFuzzer (clang), ASan and UBSan, from the
# committed corpus.  New inputs go to a scratch copy, never into fuzz/corpus.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := $(B)/fuzz
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -pthread \
                $(WARN) -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=all
FUZZ_CORE    := pbuf pprof u64map gzip scratch symbolize dumplibs lock log fdmove
FUZZ_OBJ     := $(FUZZ_CORE:%=$(FUZZ_DIR)/core/%.o)
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_pprof

$(FUZZ_DIR)/core/%.o: core/%.c $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Icore -c $< -o $@

$(FUZZ_BIN): fuzz/fuzz_pprof.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -Icore -o $@ $< $(FUZZ_OBJ) -ldw -lelf -lz

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@rm -rf $(FUZZ_DIR)/work && mkdir -p $(FUZZ_DIR)/work $(FUZZ_DIR)/artifacts
	@echo "== fuzzing the profile reader for $(FUZZ_SECONDS) s from fuzz/corpus"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	    $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/work fuzz/corpus

# ---------------------------------------------------------------------------
# lint: both tools must report nothing.  clang-tidy's checks are in
# .clang-tidy at the top of the tree.

LINT_FLAGS := -std=gnu11 -D_GNU_SOURCE -pthread -Icore

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	    --inline-suppr -I core core preload tools
	clang-tidy --quiet --warnings-as-errors='*' $(CORE_SRC) $(PRELOAD_SRC) $(TOOLS_SRC) \
	    -- $(LINT_FLAGS)

# Objects reached only through pattern rules are intermediate to make; keep
# them, or every run rebuilds the sanitizer trees.
.SECONDARY: $(asan_CORE_OBJ) $(tsan_CORE_OBJ) $(FUZZ_OBJ)

# ---------------------------------------------------------------------------
# test_host: the program under mprof behaves as bare, for every kind of harm
# in issue 10 (descriptors, errno, exit from a signal handler, small stacks,
# the stack budget, fork while sampling, SIGTERM in malloc, main's
# pthread_exit, namespaces and set*id, short-lived processes, clean stderr).
# Its programs are progs/host_*.  It runs first in check-hardening; alone:
# make check-host [CK_RUN_CASE=host_<kind>].

HOST_BIN := $(HARD_DIR)/test_host
HOST_TEST_SRC := $(HARD_SRC)/test_host.c $(HARD_SRC)/hutil.c \
                 test/integration/harness.c test/integration/prof.c

$(HOST_BIN): $(HOST_TEST_SRC) $(wildcard $(HARD_SRC)/*.h test/integration/*.h) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -DIT_BUILD_DIR='"$(abspath $(B))"' \
	    -Itest/integration -Icore -o $@ $(HOST_TEST_SRC) $(CORE_OBJ) \
	    $$(pkg-config --cflags --libs check) $(LIBS)

.PHONY: check-host
check-host: $(LIBMPROF) hardening-programs $(HOST_BIN)
	$(HOST_BIN)

check-hardening: check-host
