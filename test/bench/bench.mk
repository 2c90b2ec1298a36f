# test/bench: overhead benchmarks and the demo.  Nothing here is a test.
#
#   make bench           churn and lock benchmarks, bare vs mprof, 1 and 2 threads
#   make bench QUICK=1   3 runs per configuration instead of 7
#   make demo            profile test/programs/demo and show its top sites

BENCH_DIR := $(B)/test/bench
DEMO_DIR  := $(B)/demo
PPROF_TOP := go tool pprof -top -nodecount=10

$(BENCH_DIR)/churn: test/bench/churn.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -o $@ $<

$(BENCH_DIR)/locks: test/bench/locks.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -o $@ $<

bench: $(LIBMPROF) $(BENCH_DIR)/churn $(BENCH_DIR)/locks
	QUICK=$(QUICK) RUNS=$(RUNS) OPS=$(OPS) LOCK_OPS=$(LOCK_OPS) sh test/bench/run.sh $(B)

# The demo writes into build/demo/, then shows two views of the exit profile.
demo: all $(B)/test/programs/demo
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@echo "== running $(B)/test/programs/demo under LD_PRELOAD=$(LIBMPROF)"
	@MPROF_OUT=$(DEMO_DIR)/demo LD_PRELOAD=$(abspath $(LIBMPROF)) $(B)/test/programs/demo
	@f=$$(ls $(DEMO_DIR)/demo.*.heap.pb.gz 2>/dev/null | head -n 1); \
	if [ -z "$$f" ]; then echo "demo: no profile written" >&2; exit 1; fi; \
	echo "== profile: $$f"; echo; \
	echo "== IN USE at exit (inuse_space): memory still held when the program ended."; \
	echo "   cache_store is the cache that never evicts; parse_request is the request"; \
	echo "   that handle_request leaks on its error path."; \
	$(PPROF_TOP) -sample_index=inuse_space "$$f" 2>/dev/null | sed -n '/flat%/,$$p'; \
	echo; \
	echo "== ALLOCATED over the whole run (alloc_space): freed or not."; \
	echo "   render_response's scratch buffers dominate but hold nothing at exit."; \
	$(PPROF_TOP) -sample_index=alloc_space "$$f" 2>/dev/null | sed -n '/flat%/,$$p'; \
	echo; \
	echo "Explore it: go tool pprof -http=: $$f"
