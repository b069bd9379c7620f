/* Unit tests for src/util: size and duration parsing. */
#include <check.h>

#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stockade/util.h"

START_TEST(test_parse_size)
{
	uint64_t v;
	ck_assert_int_eq(sk_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(sk_parse_size("64M", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_int_eq(sk_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(sk_parse_size("1k", &v), 0);
	ck_assert_uint_eq(v, 1024);
	ck_assert_int_eq(sk_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(sk_parse_size("12X", &v), -EINVAL);
	ck_assert_int_eq(sk_parse_size("-1", &v), -EINVAL);
	ck_assert_int_eq(sk_parse_size("99999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(sk_parse_size("17179869184T", &v), -ERANGE);
}
END_TEST

START_TEST(test_parse_duration)
{
	uint64_t ms;
	ck_assert_int_eq(sk_parse_duration_ms("30", &ms), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(sk_parse_duration_ms("1.5", &ms), 0);
	ck_assert_uint_eq(ms, 1500);
	ck_assert_int_eq(sk_parse_duration_ms("0.25s", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(sk_parse_duration_ms("500ms", &ms), 0);
	ck_assert_uint_eq(ms, 500);
	ck_assert_int_eq(sk_parse_duration_ms("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(sk_parse_duration_ms("1h", &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(sk_parse_duration_ms("1.", &ms), -EINVAL);
	ck_assert_int_eq(sk_parse_duration_ms("x", &ms), -EINVAL);
	ck_assert_int_eq(sk_parse_duration_ms("3d", &ms), -EINVAL);
}
END_TEST

START_TEST(test_parse_u64)
{
	uint64_t v;
	ck_assert_int_eq(sk_parse_u64("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(sk_parse_u64("18446744073709551615", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(sk_parse_u64("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(sk_parse_u64("1 ", &v), -EINVAL);
}
END_TEST

START_TEST(test_error_message)
{
	sk_error e = { 0 };
	ck_assert_int_eq(sk_fail(&e, ENOENT, "workspace %s is missing", "/x"), -ENOENT);
	ck_assert_int_eq(e.code, ENOENT);
	ck_assert_str_eq(e.msg, "workspace /x is missing");
	ck_assert_int_eq(sk_fail_errno(&e, EACCES, "open %s", "/y"), -EACCES);
	ck_assert_str_eq(e.msg, "open /y: Permission denied");
}
END_TEST

/* Descriptors cross a socket as the same open files, with the payload. */
/* One call when the parents exist; from the top when they do not; an
 * existing directory is fine; a file in the way is not. */
/* The bytes are there, from the start, and the fd does not survive exec. */
START_TEST(test_memfd_of)
{
	int fd = sk_memfd_of("test", "hello", 5);
	ck_assert_int_ge(fd, 0);
	char *text = NULL;
	size_t len = 0;
	ck_assert_int_eq(sk_read_fd(fd, 64, &text, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(text, "hello", 5);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	free(text);
	close(fd);
}
END_TEST

/* Room grows by doubling from 16; a failed growth keeps the old array. */
START_TEST(test_grow)
{
	size_t cap = 0;
	int *v = NULL;
	for (size_t n = 0; n < 100; n++) {
		int *nv = sk_grow(v, &cap, n + 1, sizeof(*v));
		ck_assert_ptr_nonnull(nv);
		v = nv;
		v[n] = (int)n;
		ck_assert_uint_ge(cap, n + 1);
	}
	ck_assert_uint_eq(cap, 128);
	for (size_t n = 0; n < 100; n++)
		ck_assert_int_eq(v[n], (int)n);
	ck_assert_ptr_eq(sk_grow(v, &cap, 128, sizeof(*v)), v);   /* room enough: no move */
	ck_assert_ptr_null(sk_grow(v, &cap, SIZE_MAX / 2, sizeof(*v)));   /* too big: refused */
	ck_assert_uint_eq(cap, 128);
	ck_assert_int_eq(v[99], 99);
	free(v);
}
END_TEST

START_TEST(test_mkdir_p)
{
	char top[] = "/tmp/stockade-test-mkdir-XXXXXX", path[256];
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/a/b/c", top);
	ck_assert_int_eq(sk_mkdir_p(path, 0755), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(sk_mkdir_p(path, 0755), 0);          /* exists */
	snprintf(path, sizeof(path), "%s/a/b/d", top);
	ck_assert_int_eq(sk_mkdir_p(path, 0755), 0);          /* a sibling */
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/file", top);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/file/x/y", top);
	ck_assert_int_eq(sk_mkdir_p(path, 0755), -ENOTDIR);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_pass_fds)
{
	int sp[2], p1[2], p2[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	int out[2] = { p1[1], p2[1] };
	ck_assert_int_eq(sk_send_fds(sp[0], "hey", 3, out, 2), 0);
	char buf[8];
	int got[SK_MAX_PASSED_FDS];
	size_t n = SK_MAX_PASSED_FDS;
	ck_assert_int_eq(sk_recv_fds(sp[1], buf, sizeof(buf), got, &n), 3);
	ck_assert_mem_eq(buf, "hey", 3);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < 2; i++) {
		struct stat a, b;
		ck_assert_int_eq(fstat(got[i], &a), 0);
		ck_assert_int_eq(fstat(out[i], &b), 0);
		ck_assert_uint_eq(a.st_ino, b.st_ino);
		ck_assert_int_eq(fcntl(got[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	}
	/* Room for fewer than sent: the rest are closed, not leaked. */
	ck_assert_int_eq(sk_send_fds(sp[0], "x", 1, out, 2), 0);
	n = 1;
	ck_assert_int_eq(sk_recv_fds(sp[1], buf, sizeof(buf), got + 2, &n), 1);
	ck_assert_uint_eq(n, 1);
	/* No descriptors at all, and too many refused before sending. */
	ck_assert_int_eq(sk_send_fds(sp[0], "y", 1, NULL, 0), 0);
	n = 2;
	ck_assert_int_eq(sk_recv_fds(sp[1], buf, sizeof(buf), got + 3, &n), 1);
	ck_assert_uint_eq(n, 0);
	int many[SK_MAX_PASSED_FDS + 1] = { 0 };
	ck_assert_int_eq(sk_send_fds(sp[0], "z", 1, many, SK_MAX_PASSED_FDS + 1), -EINVAL);
	ck_assert_int_eq(sk_send_fds(sp[0], "", 0, NULL, 0), -EINVAL);
	/* The peer gone: end of stream. */
	close(sp[0]);
	n = 1;
	ck_assert_int_eq(sk_recv_fds(sp[1], buf, sizeof(buf), got + 3, &n), 0);
	ck_assert_uint_eq(n, 0);
	for (int i = 0; i < 3; i++)
		close(got[i]);
	close(sp[1]), close(p1[0]), close(p1[1]), close(p2[0]), close(p2[1]);
}
END_TEST

START_TEST(test_fingerprint_bytes_and_fd)
{
	char a[SK_FINGERPRINT_LEN + 1], b[SK_FINGERPRINT_LEN + 1];
	sk_fingerprint_bytes("abc", 3, a);
	ck_assert_str_eq(a, "content:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	char path[] = "/tmp/stockade-test-fp-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_eq(sk_fingerprint_fd(fd, 3, b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(sk_fingerprint_fd(fd, 4, b), -ESTALE);   /* shorter than the size matched */
	close(fd);
}
END_TEST

START_TEST(test_write_cache_makes_its_directory)
{
	char dir[] = "/tmp/stockade-test-cache-XXXXXX", path[128], *got = NULL;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/memo", dir);
	ck_assert_int_eq(sk_write_cache(path, "one\n", 4), 0);
	ck_assert_int_eq(sk_write_cache(path, "two\n", 4), 0);   /* the directory is there now */
	size_t len;
	ck_assert_int_eq(sk_read_file(path, 64, &got, &len), 0);
	ck_assert_str_eq(got, "two\n");
	free(got);
	ck_assert_int_eq(sk_write_cache("no-slash", "x", 1), -EINVAL);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_parse_duration);
	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_error_message);
	suite_add_tcase(s, tc);
	TCase *io = tcase_create("io");
	tcase_add_test(io, test_pass_fds);
	tcase_add_test(io, test_mkdir_p);
	tcase_add_test(tc, test_grow);
	tcase_add_test(io, test_memfd_of);
	tcase_add_test(io, test_fingerprint_bytes_and_fd);
	tcase_add_test(io, test_write_cache_makes_its_directory);
	suite_add_tcase(s, io);
	return sk_check_run(s);
}
