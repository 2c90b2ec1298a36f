# test/locks: the block and mutex profiles (issue 3) against programs that
# measure their own waits, and the pthread wrappers' behaviour with and
# without mprof.  Reuses the integration harness and profile reader.

LOCKS_DIR  := $(B)/test/locks
LOCKS_PROGS := $(LOCKS_DIR)/contention $(LOCKS_DIR)/behaviour $(LOCKS_DIR)/whichlock \
               $(LOCKS_DIR)/manylocks
LOCKS_TEST := $(LOCKS_DIR)/test_locks

$(LOCKS_PROGS): $(LOCKS_DIR)/%: test/locks/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

$(LOCKS_TEST): $(LOCKS_DIR)/test_locks.o $(TEST_HARNESS)
	$(TEST_LINK) -lm

.PHONY: check-locks
check-locks: $(LIBMPROF) $(LOCKS_PROGS) $(LOCKS_TEST)
	$(LOCKS_TEST)

CHECKS += check-locks

-include $(LOCKS_PROGS:=.d) $(LOCKS_DIR)/test_locks.d
