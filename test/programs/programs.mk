# test/programs: the programs that the integration tests, the demo and the
# benchmarks run under the profiler.  Built with TEST_CFLAGS (the top
# Makefile): -O2 -g, as a user's optimised build with debug info.

PROG_DIR      := $(B)/test/programs
PROG_C_SRC    := $(wildcard test/programs/*.c)
PROG_CXX_SRC  := $(wildcard test/programs/*.cc)
PROGRAMS      := $(PROG_C_SRC:test/programs/%.c=$(PROG_DIR)/%) \
                 $(PROG_CXX_SRC:test/programs/%.cc=$(PROG_DIR)/%)

.PHONY: programs
programs: $(PROGRAMS)

# One source each, compiled and linked in one step; -MMD names the
# dependency file after the program ($(PROG_DIR)/<name>.d).
$(PROG_DIR)/%: test/programs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

$(PROG_DIR)/%: test/programs/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -o $@ $<

-include $(PROGRAMS:=.d)
