# test/quality: checks of the code itself rather than of its behaviour,
# each building core/ its own way (sanitizers, libFuzzer) or not at all.
# None is part of make check: each needs minutes, or tools of its own.
#
#   make check-sanitize    core/ unit tests under ASan+UBSan, then TSan, with
#                          the lock order checks (MPROF_LOCK_DEBUG)
#   make fuzz              libFuzzer on the profile reader and the HTTP request
#                          parser (FUZZ_SECONDS=60 each)
#   make lint              the folders' one-way includes (layers.sh), cppcheck and
#                          clang-tidy over core/, preload/, tools/

.PHONY: check-sanitize check-asan check-tsan fuzz fuzz-build lint

# ---------------------------------------------------------------------------
# check-sanitize: core/ and its unit tests rebuilt with sanitizers, each in
# a build directory of its own ($(B)/asan, $(B)/tsan).  UBSan halts on the
# first error (-fno-sanitize-recover), so a finding fails the run.  Beside
# the unit tests runs test/hardening/test_core_stress (core/ under many
# threads), whose suppressions files are in test/hardening as well.
# MPROF_LOCK_DEBUG builds in the lock order checks (core/lock.h): each run
# here also checks every lock taken against the order, and test_lock its
# aborts.

SAN_BASE := -O1 -g -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -pthread \
            $(WARN) -fvisibility=hidden -ftls-model=initial-exec -DMPROF_LOCK_DEBUG
SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_tsan := -fsanitize=thread
UNIT_NAMES := $(UNIT_SRC:test/unit/%.c=%)

# $(1): asan or tsan.  Objects first, each with its .d, then executables.
define SAN_BUILD
$(1)_CORE_OBJ := $$(CORE_SRC:%.c=$$(B)/$(1)/%.o)
$(1)_UNIT_BIN := $$(UNIT_NAMES:%=$$(B)/$(1)/test/unit/%)
$(1)_TEST_BIN := $$($(1)_UNIT_BIN) $$(B)/$(1)/test/hardening/test_core_stress
$(1)_TEST_OBJ := $$($(1)_TEST_BIN:=.o) $$(UNIT_PPROF:$$(B)/%=$$(B)/$(1)/%)

$$(B)/$(1)/core/%.o: core/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SAN_BASE) $$(SAN_$(1)) $$(DEPFLAGS) $(CORE_INC) -c $$< -o $$@

$$(B)/$(1)/test/%.o: test/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SAN_BASE) $$(SAN_$(1)) $$(DEPFLAGS) $(CORE_INC) -Itest \
	    $$$$(pkg-config --cflags check) -c $$< -o $$@

$$($(1)_TEST_BIN): %: %.o $$($(1)_CORE_OBJ)
	$$(CC) $$(SAN_BASE) $$(SAN_$(1)) -o $$@ $$(filter %.o,$$^) \
	    $$$$(pkg-config --libs check) $$(UNIT_LIBS)
$$(B)/$(1)/test/unit/test_pprof: $$(UNIT_PPROF:$$(B)/%=$$(B)/$(1)/%)

-include $$($(1)_CORE_OBJ:.o=.d) $$($(1)_TEST_OBJ:.o=.d)
endef
$(eval $(call SAN_BUILD,asan))
$(eval $(call SAN_BUILD,tsan))

# Check forks every test; a sanitizer report in a child fails that test
# (exitcode), and UBSan's halt makes it a failure rather than a log line.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
            LSAN_OPTIONS=suppressions=$(abspath test/hardening/lsan.supp)
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:exitcode=88:second_deadlock_stack=1:history_size=7:suppressions=$(abspath test/hardening/tsan.supp)

check-asan: $(asan_TEST_BIN)
	@set -e; for t in $(asan_TEST_BIN); do echo "== asan+ubsan $$t"; \
	    CK_DEFAULT_TIMEOUT=300 $(ASAN_ENV) $$t; done

check-tsan: $(tsan_TEST_BIN)
	@set -e; for t in $(tsan_TEST_BIN); do echo "== tsan $$t"; \
	    CK_DEFAULT_TIMEOUT=300 $(TSAN_ENV) $$t; done

check-sanitize:
	$(MAKE) check-asan
	$(MAKE) check-tsan

# ---------------------------------------------------------------------------
# fuzz: the profile reader under libFuzzer (clang), ASan and UBSan, from the
# committed corpus.  New inputs go to a scratch copy, never into fuzz/corpus.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := $(B)/fuzz
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -pthread \
                $(WARN) -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=all
# The reader needs the base and the output half, as `mprof` does.
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(BASE_SRC) $(OUTPUT_SRC))
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_pprof

$(FUZZ_DIR)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(DEPFLAGS) $(CORE_INC) -c $< -o $@

# One source, compiled and linked in one step: its .d is fuzz_pprof.d.
$(FUZZ_BIN): fuzz/fuzz_pprof.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(DEPFLAGS) -fsanitize=fuzzer $(CORE_INC) -o $@ $< $(FUZZ_OBJ) -ldw -lelf -lz

# The /debug/pprof request parser, which reads what the network sends.
FUZZ_HTTP_BIN := $(FUZZ_DIR)/fuzz_httpreq
$(FUZZ_HTTP_BIN): fuzz/fuzz_httpreq.c $(FUZZ_DIR)/core/httpreq.o
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(DEPFLAGS) -fsanitize=fuzzer $(CORE_INC) -o $@ $^

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN).d $(FUZZ_HTTP_BIN).d

fuzz-build: $(FUZZ_BIN) $(FUZZ_HTTP_BIN)

fuzz: $(FUZZ_BIN) $(FUZZ_HTTP_BIN)
	@rm -rf $(FUZZ_DIR)/work $(FUZZ_DIR)/work_http && \
	    mkdir -p $(FUZZ_DIR)/work $(FUZZ_DIR)/work_http $(FUZZ_DIR)/artifacts
	@echo "== fuzzing the profile reader for $(FUZZ_SECONDS) s from fuzz/corpus"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	    $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/work fuzz/corpus
	@echo "== fuzzing the HTTP request parser for $(FUZZ_SECONDS) s from fuzz/corpus_http"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	    $(FUZZ_HTTP_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/ \
	    $(FUZZ_DIR)/work_http fuzz/corpus_http

# ---------------------------------------------------------------------------
# lint: both tools must report nothing.  clang-tidy's checks are in
# .clang-tidy at the top of the tree.

LINT_FLAGS := -std=gnu11 -D_GNU_SOURCE -pthread $(CORE_INC)

lint:
	sh test/quality/layers.sh
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	    --inline-suppr --suppress=unknownMacro -I core -I core/record -I core/output core preload tools
	clang-tidy --quiet --warnings-as-errors='*' $(CORE_SRC) $(PRELOAD_SRC) $(TOOLS_SRC) \
	    -- $(LINT_FLAGS)

# Objects reached only through pattern rules are intermediate to make; keep
# them, or every run rebuilds the sanitizer trees.
$(call STALE_WITHOUT_D,$(asan_CORE_OBJ) $(tsan_CORE_OBJ) $(FUZZ_OBJ))

.SECONDARY: $(asan_CORE_OBJ) $(tsan_CORE_OBJ) $(asan_TEST_OBJ) $(tsan_TEST_OBJ) $(FUZZ_OBJ)
