# test/bench: overhead and accuracy benchmarks against the peers, and the demo.
# Nothing here is a test: figures are reported, never asserted.
#
#   make bench           every peer and workload, 7 interleaved rounds, then
#                        the accuracy runs; writes test/bench/RESULTS.md
#   make bench QUICK=1   3 rounds, shorter runs (under 2 minutes); writes
#                        $(B)/test/bench/RESULTS.md instead
#   make demo            profile test/programs/demo and show its top sites
#   make bench-scrape    MPROF_HTTP under a scrape loop (test/bench/scrape.sh)
#
# Whole-process workloads (forks, herd, python, subst, make) and the dump
# curve (stacks N; WORKLOADS name "dump") are in the same run.
#
# Knobs (see run.sh): RUNS, OPS, FORKS, DUMP_N, PEERS="bare mprof ...", WORKLOADS="churn1s
# ...", ACC_RUNS, RESULTS=<file>.

BENCH_DIR := $(B)/test/bench
DEMO_DIR  := $(B)/demo
BENCH_PROGS := $(BENCH_DIR)/churn $(BENCH_DIR)/locks $(BENCH_DIR)/measure \
               $(BENCH_DIR)/forks $(BENCH_DIR)/herd $(BENCH_DIR)/stacks \
               $(BENCH_DIR)/parked
BENCH_BINS := $(BENCH_PROGS) $(BENCH_DIR)/tcsample.so

$(BENCH_PROGS): $(BENCH_DIR)/%: test/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Loaded beside libtcmalloc.so.4 only: it dumps tcmalloc's sampled profile.
$(BENCH_DIR)/tcsample.so: test/bench/tcsample.cc
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -shared -fPIC -o $@ $< -ltcmalloc

-include $(addsuffix .d,$(basename $(BENCH_BINS)))

bench: $(LIBMPROF) $(BENCH_BINS) $(B)/test/programs/sites
	QUICK=$(QUICK) RUNS=$(RUNS) OPS=$(OPS) PEERS="$(PEERS)" \
	WORKLOADS="$(WORKLOADS)" ACC_RUNS=$(ACC_RUNS) RESULTS=$(RESULTS) \
	FORKS=$(FORKS) DUMP_N="$(DUMP_N)" \
	sh test/bench/run.sh $(B)
	$(MAKE) --no-print-directory bench-scrape \
	    $(if $(QUICK),ROUNDS=1 SCRAPE_OPS=200000000,ROUNDS=1) | tee $(BENCH_DIR)/scrape.txt

# The demo writes into build/demo/, then shows two views of the exit profile
# with the mprof command, and draws a flame graph.
# deps first: the README promises it works as the first command on a fresh machine.
demo: deps
	@$(MAKE) --no-print-directory all $(B)/test/programs/demo
	@$(MAKE) --no-print-directory demo-run

.PHONY: demo-run
demo-run:
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@echo "== $(B)/mprof run --out $(DEMO_DIR)/demo -- $(B)/test/programs/demo"
	@$(B)/mprof run --out $(DEMO_DIR)/demo -- $(B)/test/programs/demo
	@f=$$(ls $(DEMO_DIR)/demo.*.heap.pb.gz 2>/dev/null | head -n 1); \
	if [ -z "$$f" ]; then echo "demo: no profile written" >&2; exit 1; fi; \
	echo; \
	echo "== IN USE at exit (inuse_space): memory still held when the program ended."; \
	echo "   cache_store is the cache that never evicts; parse_request is the request"; \
	echo "   that handle_request leaks on its error path."; \
	$(B)/mprof top -n 6 "$$f" | sed 1,2d; \
	echo; \
	echo "== ALLOCATED over the whole run (alloc_space): freed or not."; \
	echo "   render_response's scratch buffers dominate but hold nothing at exit."; \
	$(B)/mprof top -n 6 --sample-index alloc_space "$$f" | sed 1,2d; \
	echo; \
	$(B)/mprof flame "$$f" -o $(DEMO_DIR)/demo.svg --sample-index alloc_space && \
	echo "== flame graph of alloc_space: $(DEMO_DIR)/demo.svg (open it in a browser)"; \
	echo "   more: $(B)/mprof --help; for go tool pprof, pprof's web UI or Pyroscope:"; \
	echo "   $(B)/mprof symbolize $$f -o $(DEMO_DIR)/demo.pb.gz && go tool pprof -http=: $(DEMO_DIR)/demo.pb.gz"

# The scrape loop of issue 15 (MPROF_HTTP under a Parca-like scraper):
# throughput against no scraping, and descriptor and memory growth.
.PHONY: bench-scrape
# Its figures go to $(B)/test/bench/scrape.txt when make bench runs it.
bench-scrape: $(LIBMPROF) $(BENCH_DIR)/churn
	ROUNDS=$(ROUNDS) OPS=$(SCRAPE_OPS) sh test/bench/scrape.sh $(B)
