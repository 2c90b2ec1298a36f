# test/threads: the threadcreate and threads profiles and `mprof stacks`
# (issue 14) against programs whose threads are where they say.  Reuses
# the integration harness and profile reader.

THREADS_DIR   := $(B)/test/threads
THREADS_PROGS := $(THREADS_DIR)/tcreate $(THREADS_DIR)/parked $(THREADS_DIR)/deadlock $(THREADS_DIR)/churn \
                 $(THREADS_DIR)/ownstacks \
                 $(THREADS_DIR)/regmap
THREADS_TEST  := $(THREADS_DIR)/test_threads

$(THREADS_PROGS): $(THREADS_DIR)/%: test/threads/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

$(THREADS_TEST): $(THREADS_DIR)/test_threads.o $(TEST_HARNESS)
	$(TEST_LINK) -lm

.PHONY: check-threads
check-threads: $(LIBMPROF) $(TOOL) $(THREADS_PROGS) $(THREADS_TEST)
	$(THREADS_TEST)

CHECKS += check-threads

-include $(THREADS_PROGS:=.d) $(THREADS_DIR)/test_threads.d
