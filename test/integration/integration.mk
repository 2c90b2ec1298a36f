# test/integration: Check tests that run test/programs under
# LD_PRELOAD=build/libmprof.so and read the profiles with `go tool pprof`.
#
#   make integration                      all tests
#   make integration CK_RUN_CASE=<test>   one test (Check's own variable)

IT_DIR  := $(B)/test/integration
IT_BIN  := $(IT_DIR)/test_integration
IT_SRC  := test/integration/test_integration.c test/integration/harness.c \
           test/integration/prof.c
IT_HDR  := $(wildcard test/integration/*.h)

$(IT_BIN): $(IT_SRC) $(IT_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -DIT_BUILD_DIR='"$(abspath $(B))"' -o $@ $(IT_SRC) \
	    $$(pkg-config --cflags --libs check) -lm

# programs (phony): this fragment is read before programs.mk defines PROGRAMS.
integration: $(LIBMPROF) programs $(IT_BIN)
	@rm -rf $(IT_DIR)/work
	$(IT_BIN)
