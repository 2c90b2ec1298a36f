# test/tools: Check tests of the mprof command (tools/), run against
# profiles of the test programs, Go's runtime/pprof and hand-made ones.
#
#   make check-tools                      all tests (~30 s)
#   make check-tools CK_RUN_CASE=<test>   one test

TOOLS_TEST_DIR := $(B)/test/tools
TOOLS_TEST     := $(TOOLS_TEST_DIR)/test_tools
TOOLS_TEST_SRC := test/tools/test_tools.c test/integration/harness.c tools/units.c

# The top Makefile's object rule knows only core/ and preload/ headers.
$(TOOLS_OBJ): $(wildcard tools/*.h)

$(TOOLS_TEST_DIR)/grow: test/tools/grow.c test/programs/common.h
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -Itest/programs -o $@ $<

$(TOOLS_TEST_DIR)/sigprog: test/tools/sigprog.c test/programs/common.h
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -Itest/programs -o $@ $<

# Links core/ for building and gzipping profiles in the tests.
$(TOOLS_TEST): $(TOOLS_TEST_SRC) $(CORE_OBJ) $(wildcard test/integration/*.h tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -Icore -Itools -Itest/integration \
	    -DIT_BUILD_DIR='"$(abspath $(B))"' -DTOOLS_TEST_SRC='"$(abspath test/tools)"' \
	    -o $@ $(TOOLS_TEST_SRC) $(CORE_OBJ) $$(pkg-config --cflags --libs check) $(LIBS)

.PHONY: check-tools
check-tools: $(LIBMPROF) $(B)/mprof programs $(B)/test/locks/contention \
             $(TOOLS_TEST_DIR)/grow $(TOOLS_TEST_DIR)/sigprog $(TOOLS_TEST)
	$(TOOLS_TEST)

CHECKS += check-tools
