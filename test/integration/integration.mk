# test/integration: Check tests that run test/programs under
# LD_PRELOAD=build/libmprof.so and read the profiles with `go tool pprof`.
#
#   make integration                      all tests
#   make integration CK_RUN_CASE=<test>   one test (Check's own variable)

IT_DIR  := $(B)/test/integration
IT_BIN  := $(IT_DIR)/test_integration
IT_OBJ  := $(IT_DIR)/test_integration.o $(TEST_HARNESS)

$(IT_BIN): $(IT_OBJ)
	$(TEST_LINK) -lm

# programs (phony): this fragment is read before programs.mk defines PROGRAMS.
integration: $(LIBMPROF) programs $(IT_BIN)
	@rm -rf $(IT_DIR)/work
	$(IT_BIN)

-include $(IT_OBJ:.o=.d)
