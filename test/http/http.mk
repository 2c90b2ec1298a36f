# test/http: MPROF_HTTP, the /debug/pprof server, end to end: go tool
# pprof and curl against a live program, hostile clients, a unix socket.
#
#   make check-http                      all tests (~30 s)
#   make check-http CK_RUN_CASE=<test>   one test

HTTP_TEST_DIR := $(B)/test/http
HTTP_TEST     := $(HTTP_TEST_DIR)/test_http
HTTP_PROG     := $(HTTP_TEST_DIR)/httpprog
HTTP_TPROG    := $(HTTP_TEST_DIR)/threadsprog

$(HTTP_PROG): test/http/httpprog.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

$(HTTP_TPROG): test/http/threadsprog.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Links core/ to decode the profiles it fetches.
$(HTTP_TEST): $(HTTP_TEST_DIR)/test_http.o $(TEST_HARNESS) $(CORE_OBJ)
	$(TEST_LINK) $(LIBS)

.PHONY: check-http
check-http: $(LIBMPROF) $(B)/mprof $(HTTP_PROG) $(HTTP_TPROG) $(HTTP_TEST)
	$(HTTP_TEST)

CHECKS += check-http

-include $(HTTP_PROG).d $(HTTP_TPROG).d $(HTTP_TEST_DIR)/test_http.d
