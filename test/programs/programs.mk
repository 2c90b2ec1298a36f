# test/programs: the programs that the integration tests, the demo and the
# benchmarks run under the profiler.  Always -O2 -g: the tests check function
# names and file:line as a user's optimised build with debug info gets them.

PROG_DIR      := $(B)/test/programs
PROG_CFLAGS   := -O2 -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN)
PROG_CXXFLAGS := -O2 -g -std=gnu++17 -pthread $(WARN)
PROG_C_SRC    := $(wildcard test/programs/*.c)
PROG_CXX_SRC  := $(wildcard test/programs/*.cc)
PROGRAMS      := $(PROG_C_SRC:test/programs/%.c=$(PROG_DIR)/%) \
                 $(PROG_CXX_SRC:test/programs/%.cc=$(PROG_DIR)/%)

.PHONY: programs
programs: $(PROGRAMS)

$(PROG_DIR)/%: test/programs/%.c test/programs/common.h
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -o $@ $<

$(PROG_DIR)/%: test/programs/%.cc test/programs/common.h
	@mkdir -p $(dir $@)
	$(CXX) $(PROG_CXXFLAGS) -o $@ $<
