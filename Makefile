# mprof: build, test, demo, bench.  See README.md.
#
#   make          build/libmprof.so (and build/mprof)
#   make deps     install missing Debian packages (apt-get, as root or via sudo)
#   make check    deps + build + unit tests + integration tests
#   make demo     profile the bundled demo program and print its top sites
#   make bench    overhead benchmarks (not tests: nothing is asserted)

CC      ?= cc
CXX     ?= c++
B       := build
PREFIX  ?= /usr/local

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -fPIC -pthread $(WARN)
LIB_CFLAGS := -fvisibility=hidden -ftls-model=initial-exec
# libdw and zlib are not linked: core/output/dumplibs.c loads them at the first
# dump, so a process that never dumps never maps them.
LIBS    := -lgcc_s -ldl -lm -pthread
# The library itself needs no libm (core/record/sample.c): each library loaded is
# mappings that every fork copies and every exit unmaps.
LIB_LIBS := -lgcc_s -ldl -pthread

# Each object records the headers it includes in a .d file beside it, read
# back below: touching a header rebuilds the objects that include it, and
# only those.  -MP adds a rule per header, so deleting one breaks no build.
DEPFLAGS := -MMD -MP
# An existing object without its .d (a build tree from before -MMD) would
# never see a header change: $(call STALE_WITHOUT_D,objects) rebuilds it once.
STALE_WITHOUT_D = $(foreach o,$(1),$(if $(wildcard $(o)),$(if $(wildcard $(o:.o=.d)),,$(eval $(o): FORCE))))
.PHONY: FORCE

# Test programs and test executables (test/*/*.mk), whatever CFLAGS says:
# -O2 -g, because the tests check function names and file:line as a user's
# optimised build with debug info gets them.  The include directories are
# all the tests': core/ and tools/ for the code under test and its encoder,
# test/ for run_suite.h, test/integration for the harness, test/programs
# for the programs' common.h.
CORE_INC      := -Icore -Icore/record -Icore/output
TEST_CFLAGS   := -O2 -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) $(DEPFLAGS) \
                 $(CORE_INC) -Itools -Itest -Itest/integration -Itest/programs \
                 -DIT_BUILD_DIR='"$(abspath $(B))"'
TEST_CXXFLAGS := -O2 -g -std=gnu++17 -pthread $(WARN) $(DEPFLAGS)

# core/ is three floors (README.md, "Layout"): its own files, the shared
# base; core/record, what the shim drives (sampling, buckets, cycles, the
# mprof thread, and dump.c, its one way out); core/output, profiles and
# symbols, which `mprof` links without the recording half.
BASE_SRC    := $(wildcard core/*.c)
RECORD_SRC  := $(wildcard core/record/*.c)
OUTPUT_SRC  := $(wildcard core/output/*.c)
CORE_SRC    := $(BASE_SRC) $(RECORD_SRC) $(OUTPUT_SRC)
PRELOAD_SRC := $(wildcard preload/*.c)
TOOLS_SRC   := $(wildcard tools/*.c)
CORE_OBJ    := $(CORE_SRC:%.c=$(B)/%.o)
OUTPUT_OBJ  := $(BASE_SRC:%.c=$(B)/%.o) $(OUTPUT_SRC:%.c=$(B)/%.o)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/%.o)
TOOLS_OBJ   := $(TOOLS_SRC:%.c=$(B)/%.o)
UNIT_SRC    := $(wildcard test/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:%.c=$(B)/%)
# test_pprof's subjects, one file each, linked into its executable (one
# main, one fixture whose code the profiles point into).
UNIT_PPROF  := $(patsubst %.c,$(B)/%.o,$(wildcard test/unit/pprof_*.c))

LIBMPROF := $(B)/libmprof.so
TOOL     := $(if $(TOOLS_SRC),$(B)/mprof)

.PHONY: all deps check unit integration demo bench install clean
all: $(LIBMPROF) $(TOOL)

$(B)/core/%.o $(B)/preload/%.o: CFLAGS += $(LIB_CFLAGS)
# The shim defines malloc itself: GCC must not turn malloc+memset into a
# call to calloc (ours) or assume malloc/free never re-enter.
$(B)/preload/%.o: CFLAGS += -fno-builtin
# tools/ sees the base and the output half only.
$(B)/tools/%.o: CORE_INC := -Icore -Icore/output
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) $(CORE_INC) -c $< -o $@

# -z nodelete: a program that dlopens and dlcloses us must not unmap code
# that its other threads may be running.  -z now: every symbol bound at
# load, none lazily on the first call, where the loader's resolver saves
# the vector registers on the caller's stack (some 3 KiB: more than a
# sampled event may take of it) and every fork child would look it up anew.
$(LIBMPROF): $(CORE_OBJ) $(PRELOAD_OBJ)
	$(CC) -shared -Wl,-z,nodelete -Wl,-z,now -Wl,--no-undefined -o $@ $^ $(LIB_LIBS)

$(B)/mprof: $(TOOLS_OBJ) $(OUTPUT_OBJ)
	$(CC) -o $@ $^ $(LIBS)

# Unit tests link core/ without the shim; libdw too, which test_symbolize
# calls directly as the reference its answers are checked against.
# They are built with CFLAGS, as core/ is: a unit test is core/'s own code.
UNIT_LIBS := $(LIBS) -ldw
$(B)/test/unit/%.o: test/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) $(CORE_INC) -Itest $$(pkg-config --cflags check) -c $< -o $@

$(UNIT_BIN): $(B)/test/unit/%: $(B)/test/unit/%.o $(CORE_OBJ)
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $$(pkg-config --libs check) $(UNIT_LIBS)
$(B)/test/unit/test_pprof: $(UNIT_PPROF)

# An object of test/ (besides test/unit) that goes into a test executable;
# programs, one source each, are compiled and linked in one step.
$(B)/test/%.o: test/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $$(pkg-config --cflags check) -c $< -o $@

# A test executable from its objects ($^ may list core/'s too).
TEST_LINK = $(CC) -pthread -o $@ $(filter %.o,$^) $$(pkg-config --libs check)
# The harness and profile reader of test/integration, which every suite
# that runs programs links (defined here: fragments are read in name order),
# with the one owner of the profile file names that the harness parses
# them with (core/output/outname.c; $^ lists it once beside $(CORE_OBJ)).
TEST_HARNESS := $(B)/test/integration/harness.o $(B)/test/integration/prof.o \
                $(B)/core/output/outname.o

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; CK_DEFAULT_TIMEOUT=120 $$t; done

# Each fragment adds its own targets (integration, bench, demo programs)
# and may append to CHECKS the targets that `make check` must run.
CHECKS := unit integration
include $(wildcard test/*/*.mk)

-include $(CORE_OBJ:.o=.d) $(PRELOAD_OBJ:.o=.d) $(TOOLS_OBJ:.o=.d) \
         $(UNIT_BIN:=.d) $(UNIT_PPROF:.o=.d)
$(call STALE_WITHOUT_D,$(CORE_OBJ) $(PRELOAD_OBJ) $(TOOLS_OBJ))

check: deps
	$(MAKE) all
	@set -e; for t in $(CHECKS); do echo "== make $$t"; $(MAKE) $$t; done

DEPS_PKGS := libdw-dev libelf-dev zlib1g-dev check pkg-config \
             libjemalloc-dev libjemalloc2 google-perftools libgoogle-perftools-dev \
             golang-go heaptrack g++ make \
             clang libclang-rt-14-dev cppcheck clang-tidy python3 perl git xz-utils \
             nodejs libxml2-utils libpython3.11-testsuite curl
deps:
	@missing=$$(for p in $(DEPS_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	echo "deps: installing$$(echo ' '$$missing)"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIBMPROF) $(DESTDIR)$(PREFIX)/lib/
	$(if $(TOOL),install -m 755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/)

clean:
	rm -rf $(B)
