# test/symbols: the frames of a profile against addr2line -i -f -C, for a C
# inline chain and C++ standard library templates (issue 11).
#
#   make check-symbols                      both tests
#   make check-symbols CK_RUN_CASE=<test>   one

SYM_DIR  := $(B)/test/symbols
SYM_TEST := $(SYM_DIR)/test_symbols
SYM_PROGS := $(B)/test/programs/inline_chain $(B)/test/programs/cxx_stl

# The programs run from build/test/programs/ beside the others (h_prog).
$(B)/test/programs/inline_chain: test/symbols/inline_chain.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

$(B)/test/programs/cxx_stl: test/symbols/cxx_stl.cc
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -o $@ $<

$(SYM_TEST): $(SYM_DIR)/test_symbols.o $(TEST_HARNESS) $(CORE_OBJ)
	$(TEST_LINK) $(LIBS)

.PHONY: check-symbols
check-symbols: $(LIBMPROF) $(B)/mprof $(SYM_PROGS) $(SYM_TEST)
	$(SYM_TEST)

CHECKS += check-symbols

-include $(SYM_PROGS:=.d) $(SYM_DIR)/test_symbols.d
