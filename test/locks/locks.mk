# test/locks: the block and mutex profiles (issue 3) against programs that
# measure their own waits, and the pthread wrappers' behaviour with and
# without mprof.  Reuses the integration harness and profile reader.

LOCKS_DIR  := $(B)/test/locks
LOCKS_PROGS := $(LOCKS_DIR)/contention $(LOCKS_DIR)/behaviour
LOCKS_TEST := $(LOCKS_DIR)/test_locks

$(LOCKS_DIR)/%: test/locks/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -o $@ $<

$(LOCKS_TEST): test/locks/test_locks.c test/integration/harness.c test/integration/prof.c \
               $(wildcard test/integration/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -Itest/integration -Itest/unit \
	    -DIT_BUILD_DIR='"$(abspath $(B))"' -o $@ $(filter %.c,$^) \
	    $$(pkg-config --cflags --libs check) -lm

.PHONY: check-locks
check-locks: $(LIBMPROF) $(LOCKS_PROGS) $(LOCKS_TEST)
	$(LOCKS_TEST)

CHECKS += check-locks
