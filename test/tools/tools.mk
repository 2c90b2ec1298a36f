# test/tools: Check tests of the mprof command (tools/), run against
# profiles of the test programs, Go's runtime/pprof and hand-made ones.
#
#   make check-tools                      all tests (~30 s)
#   make check-tools CK_RUN_CASE=<test>   one test
#
# One executable: test_tools.c is its main and list of tests, tutil.c the
# helpers and fixtures, tools_<subject>.c the tests of one command each.

TOOLS_TEST_DIR := $(B)/test/tools
TOOLS_TEST     := $(TOOLS_TEST_DIR)/test_tools
TOOLS_TEST_OBJ := $(patsubst test/tools/%.c,$(TOOLS_TEST_DIR)/%.o, $(wildcard \
                    test/tools/test_tools.c test/tools/tutil.c test/tools/tools_*.c))
TOOLS_TEST_PROGS := $(TOOLS_TEST_DIR)/grow $(TOOLS_TEST_DIR)/sigprog

# node runs the flame graph's script from the source tree.
$(TOOLS_TEST_OBJ): TEST_CFLAGS += -DTOOLS_TEST_SRC='"$(abspath test/tools)"'

$(TOOLS_TEST_PROGS): $(TOOLS_TEST_DIR)/%: test/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Links core/ for building and gzipping profiles in the tests, and the
# mprof command's own unit formatting (tools/units.c) that one test checks.
$(TOOLS_TEST): $(TOOLS_TEST_OBJ) $(TEST_HARNESS) $(B)/tools/units.o $(CORE_OBJ)
	$(TEST_LINK) $(LIBS)

.PHONY: check-tools
check-tools: $(LIBMPROF) $(B)/mprof programs $(B)/test/locks/contention \
             $(TOOLS_TEST_PROGS) $(TOOLS_TEST)
	$(TOOLS_TEST)

CHECKS += check-tools

-include $(TOOLS_TEST_PROGS:=.d) $(TOOLS_TEST_OBJ:.o=.d)
