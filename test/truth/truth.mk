# test/truth: the profile is right where heap profilers of this kind go
# wrong (issue 13): each kind a program with known truth, at
# MPROF_MEM_RATE=1, read back with go tool pprof.
#
#   make check-truth                      every test
#   make check-truth CK_RUN_CASE=<test>   one

TRUTH_DIR   := $(B)/test/truth
TRUTH_TEST  := $(TRUTH_DIR)/test_truth
TRUTH_PROGS := $(B)/test/programs/ctor_main $(B)/test/programs/deepbind_main \
               $(B)/test/programs/order_main $(B)/test/programs/libtruth_deepbind.so \
               $(B)/test/programs/go_note $(B)/test/programs/unlinked_main \
               $(B)/test/programs/libtruth_unlinked.so $(B)/test/programs/unload_main \
               $(B)/test/programs/libtruth_unload_a.so $(B)/test/programs/libtruth_unload_b.so \
               $(B)/test/programs/addr_main $(B)/test/programs/peak $(TOOL)

# The programs run from build/test/programs/ beside the others (h_prog),
# their libraries beside them (found through the program's rpath).
$(B)/test/programs/libtruth_ctor.so: test/truth/ctor_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

$(B)/test/programs/ctor_main: test/truth/ctor_main.c $(B)/test/programs/libtruth_ctor.so
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -L$(B)/test/programs -ltruth_ctor \
	    -Wl,-rpath,'$$ORIGIN'

$(B)/test/programs/libtruth_deepbind.so: test/truth/deepbind_plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

$(B)/test/programs/deepbind_main: test/truth/deepbind_main.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -ldl

$(B)/test/programs/libtruth_order.so: test/truth/order_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

$(B)/test/programs/order_main: test/truth/order_main.c $(B)/test/programs/libtruth_order.so
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -L$(B)/test/programs -ltruth_order \
	    -Wl,-rpath,$(abspath $(B))/test/programs # not $$ORIGIN: without_proc runs it

$(B)/test/programs/go_note: test/truth/go_note.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

$(B)/test/programs/libtruth_unlinked.so: test/truth/unlinked_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

$(B)/test/programs/unlinked_main: test/truth/unlinked_main.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -ldl

$(B)/test/programs/libtruth_unload_a.so: test/truth/unload_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -DSITE=a_site -DSIZE=3333 -o $@ $<

$(B)/test/programs/libtruth_unload_b.so: test/truth/unload_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -DSITE=b_site -DSIZE=1111 -o $@ $<

$(B)/test/programs/unload_main: test/truth/unload_main.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -ldl

# Not PIE, so that taking malloc's address makes a canonical PLT entry.
$(B)/test/programs/addr_main: test/truth/addr_main.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fno-pie -no-pie -o $@ $<

$(TRUTH_TEST): $(TRUTH_DIR)/test_truth.o $(TEST_HARNESS) $(CORE_OBJ)
	$(TEST_LINK) $(LIBS)

.PHONY: check-truth
check-truth: $(LIBMPROF) $(TRUTH_PROGS) $(TRUTH_TEST)
	$(TRUTH_TEST)

CHECKS += check-truth

-include $(TRUTH_PROGS:=.d) $(TRUTH_DIR)/test_truth.d $(B)/test/programs/libtruth_ctor.so.d \
         $(B)/test/programs/libtruth_order.so.d
