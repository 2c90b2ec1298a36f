/*
 * test_httpreq.c: what the /debug/pprof server reads from the network and
 * from MPROF_HTTP: request lines and query parameters (core/httpreq.c),
 * addresses (core/netaddr.c), and the two delta profiles it computes
 * (core/output/delta.c): Go's ?seconds=N, where every value is a
 * difference, in-use included, and godeltaprof's, where in-use is whole.
 */
#include <check.h>
#include "run_suite.h"
#include <arpa/inet.h>
#include <string.h>

#include "delta.h"
#include "httpreq.h"
#include "netaddr.h"

static mprof_httpreq parse_ok(const char *s)
{
    mprof_httpreq r;
    ck_assert_msg(mprof_httpreq_parse(s, strlen(s), &r) == 0, "%s", s);
    return r;
}

START_TEST(test_request_line)
{
    mprof_httpreq r = parse_ok("GET /debug/pprof/heap?seconds=5&debug=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(r.method_len, 3);
    ck_assert_int_eq(r.path_len, strlen("/debug/pprof/heap"));
    ck_assert(memcmp(r.path, "/debug/pprof/heap", r.path_len) == 0);
    int64_t v;
    ck_assert_int_eq(mprof_httpreq_int(&r, "seconds", &v), 1);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(mprof_httpreq_int(&r, "debug", &v), 1);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(mprof_httpreq_int(&r, "gc", &v), 0);
    r = parse_ok("GET http://127.0.0.1:6060/debug/pprof/?a=%31+2 HTTP/1.0\n\n");
    ck_assert(memcmp(r.path, "/debug/pprof/", r.path_len) == 0);
    char buf[8];
    ck_assert_int_eq(mprof_httpreq_param(&r, "a", buf, sizeof buf), 3);
    ck_assert_str_eq(buf, "1 2");
    ck_assert_int_eq(mprof_httpreq_int(&r, "a", &v), -1);
    static const char *const bad[] = {
        "GET /x HTTP/2.0\r\n", "GET x HTTP/1.1\r\n", "GET  /x HTTP/1.1\r\n",
        "GET /x\r\n", "/x HTTP/1.1\r\n", "GET /x y HTTP/1.1\r\n", "",
        "GET http://host HTTP/1.1\r\n", "G\x01T /x HTTP/1.1\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mprof_httpreq r2;
        ck_assert_msg(mprof_httpreq_parse(bad[i], strlen(bad[i]), &r2) < 0, "%s", bad[i]);
    }
}
END_TEST

START_TEST(test_head_len)
{
    ck_assert_int_eq(mprof_httpreq_head_len("GET / HTTP/1.1\r\n\r\nbody", 22), 18);
    ck_assert_int_eq(mprof_httpreq_head_len("GET / HTTP/1.1\n\n", 16), 16);
    ck_assert_int_eq(mprof_httpreq_head_len("GET / HTTP/1.1\r\nHost: x\r\n", 25), 0);
    ck_assert_int_eq(mprof_httpreq_head_len("\n", 1), 0);
}
END_TEST

START_TEST(test_int_range)
{
    int64_t v;
    mprof_httpreq r = parse_ok("GET /?a=9223372036854775807&b=9223372036854775808&c=-5&d= HTTP/1.1\n");
    ck_assert_int_eq(mprof_httpreq_int(&r, "a", &v), 1);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(mprof_httpreq_int(&r, "b", &v), -1);
    ck_assert_int_eq(mprof_httpreq_int(&r, "c", &v), 1);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(mprof_httpreq_int(&r, "d", &v), -1);
}
END_TEST

START_TEST(test_netaddr)
{
    mprof_netaddr a;
    const char *why;
    ck_assert_int_eq(mprof_netaddr_parse("127.0.0.1:6060", &a, &why), 0);
    ck_assert_int_eq(a.kind, MPROF_NETADDR_IP4);
    ck_assert_int_eq(a.port, 6060);
    ck_assert_int_eq(a.per_process, 0);
    ck_assert_int_eq(mprof_netaddr_parse(":0", &a, &why), 0); /* loopback, not any */
    uint8_t lo[4];
    inet_pton(AF_INET, "127.0.0.1", lo);
    ck_assert(memcmp(a.ip, lo, 4) == 0);
    ck_assert_int_eq(a.per_process, 1);
    ck_assert_int_eq(mprof_netaddr_parse("[::1]:80", &a, &why), 0);
    ck_assert_int_eq(a.kind, MPROF_NETADDR_IP6);
    ck_assert_int_eq(mprof_netaddr_parse("unix:/run/m.%p.sock", &a, &why), 0);
    ck_assert_int_eq(a.per_process, 1);
    char path[MPROF_NETADDR_PATH_MAX];
    ck_assert_int_eq(mprof_netaddr_unix_path(&a, 42, path), 0);
    ck_assert_str_eq(path, "/run/m.42.sock");
    static const char *const bad[] = {"6060", "host.example:80", "127.0.0.1:65536",
                                      "127.0.0.1:", "unix:", "::1:80", "1.2.3.4:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(mprof_netaddr_parse(bad[i], &a, &why) < 0 && *why, "%s", bad[i]);
}
END_TEST

static const uintptr_t stk_a[1] = {1}, stk_b[1] = {2};

START_TEST(test_delta_modes)
{
    /* before: a {alloc 2, inuse 2}; now: a {alloc 5, inuse 1}, b {alloc 1, inuse 1} */
    mprof_sample before[1] = {{.pcs = stk_a, .npcs = 1, .value = {2, 20, 2, 20}}};
    mprof_sample now[2] = {{.pcs = stk_a, .npcs = 1, .value = {5, 50, 1, 10}},
                           {.pcs = stk_b, .npcs = 1, .value = {1, 10, 1, 10}}};
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_sample *out;
    size_t n;
    ck_assert_int_eq(mprof_delta(&sc, MPROF_DELTA_GO, 4, ~0u, now, 2, before, 1, &out, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert(out[0].pcs == stk_a && out[0].value[0] == 3 && out[0].value[2] == -1 &&
              out[0].value[3] == -10);
    ck_assert_int_eq(mprof_delta(&sc, MPROF_DELTA_GODELTAPROF, 4, 3u, now, 2, before, 1, &out, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert(out[0].value[0] == 3 && out[0].value[1] == 30 && out[0].value[2] == 1);
    /* nothing changed: Go's delta drops the sample */
    ck_assert_int_eq(mprof_delta(&sc, MPROF_DELTA_GO, 4, ~0u, before, 1, before, 1, &out, &n), 0);
    ck_assert_int_eq(n, 0);
    mprof_scratch_release(&sc);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("httpreq");
    tcase_add_test(tc, test_request_line);
    tcase_add_test(tc, test_head_len);
    tcase_add_test(tc, test_int_range);
    tcase_add_test(tc, test_netaddr);
    tcase_add_test(tc, test_delta_modes);
    return run_suite("httpreq", tc, NULL);
}
