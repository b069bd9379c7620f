/* stockade — small shared helpers: typed errors, cleanup attributes, parsing.
 *
 * Convention across the project: functions return 0 (or a count) on success
 * and a negative errno on failure; when a caller-visible message is useful
 * they also fill an sk_error.  Ownership is made visible with the _cleanup_
 * helpers below: a variable declared with one is released on scope exit
 * unless it is handed off with sk_steal_ptr()/sk_steal_fd().
 */
#ifndef STOCKADE_UTIL_H
#define STOCKADE_UTIL_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes shared by every front end (env(1)/timeout(1) conventions). */
enum {
	SK_EXIT_TIMEOUT = 124,   /* the command ran out of wall-clock time */
	SK_EXIT_INTERNAL = 125,  /* stockade's own error: nothing was run or the run is void */
	SK_EXIT_CANNOT_EXEC = 126,
	SK_EXIT_NOT_FOUND = 127,
	SK_EXIT_SIGNAL_BASE = 128,
};

/* An error that carries errno and a sentence for the user. */
typedef struct sk_error {
	int code;        /* positive errno, 0 when no error */
	char msg[512];   /* "what was wrong; what to do" */
} sk_error;

/* Record an error and return -code, so `return sk_fail(err, EINVAL, ...)`. */
int sk_fail(sk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As sk_fail, appending ": strerror(code)". */
int sk_fail_errno(sk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void sk_freep(void *p) { free(*(void **)p); }
static inline void sk_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void sk_fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(sk_freep)
#define _cleanup_close_ _cleanup_(sk_closep)
#define _cleanup_fclose_ _cleanup_(sk_fclosep)

static inline void *sk_steal_ptr_impl(void **p) { void *v = *p; *p = NULL; return v; }
#define sk_steal_ptr(p) sk_steal_ptr_impl((void **)&(p))
static inline int sk_steal_fd(int *fd) { int v = *fd; *fd = -1; return v; }

#define SK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* "64M", "2G", "4096", "1.5k" is not accepted: integers with an optional
 * K/M/G/T suffix (powers of 1024).  Returns 0 or -EINVAL/-ERANGE. */
int sk_parse_size(const char *s, uint64_t *out);
/* Seconds as "30", "1.5", "2m", "1h", "500ms" -> milliseconds. */
int sk_parse_duration_ms(const char *s, uint64_t *out_ms);
/* Decimal unsigned integer, whole string. */
int sk_parse_u64(const char *s, uint64_t *out);

/* write(2) all of buf, retrying on EINTR and short writes. */
int sk_write_all(int fd, const void *buf, size_t len);
/* Read a whole small file (<= max bytes) into a NUL-terminated buffer. */
int sk_read_file(const char *path, size_t max, char **out, size_t *out_len);
/* Write a small string into an existing file (e.g. /proc, /sys knobs). */
int sk_write_file(const char *path, const char *text);

/* v with room for `need` elements of `size` bytes (*cap elements now;
 * doubled as needed, from 16), or NULL with v and *cap unchanged. */
void *sk_grow(void *v, size_t *cap, size_t need, size_t size);
/* stockade's cache directory: configured if given ("" = no cache: -ENOENT),
 * else $XDG_CACHE_HOME/stockade or $HOME/.cache/stockade (malloc'd). */
int sk_cache_dir(const char *configured, char **out);
/* The running program's GNU build id into out (at most cap bytes): its
 * length, 0 when it has none (then nothing may be cached). */
enum { SK_BUILD_ID_MAX = 64 };
size_t sk_build_id(unsigned char *out, size_t cap);
/* One part of what a cached answer depends on. */
typedef struct sk_bytes {
	const void *p;
	size_t n;
} sk_bytes;
/* The file cache_dir/SUBDIR/HEX that caches an answer, HEX a digest of
 * this build's id and the n parts: another build, or other inputs, names
 * another file.  0; -ENOENT when nothing may be cached (no cache dir, no
 * build id); -ENAMETOOLONG. */
int sk_cache_file(const char *cache_dir, const char *subdir, const sk_bytes *parts, size_t n, char *out,
		  size_t cap);
/* The system daemon's state (its key, receipts and every uid's sessions). */
#define SK_SYSTEM_STATE_DIR "/var/lib/stockade"
/* Write len bytes to path (mode 0600) through a temporary file in dir and a
 * rename, so that a reader never sees half of it. */
int sk_write_atomic(const char *dir, const char *path, const void *buf, size_t len);
/* The same for a cache file: its directory is made (0700) first. */
int sk_write_cache(const char *path, const void *buf, size_t len);

enum { SK_MAX_PASSED_FDS = 8 };
/* One message of len bytes (len >= 1) with n_fds descriptors (SCM_RIGHTS)
 * on a unix socket: 0 or a negative errno. */
int sk_send_fds(int sock, const void *data, size_t len, const int *fds, size_t n_fds);
/* Receive one such message: its length (0 = the peer closed), the
 * descriptors (close-on-exec) in fds with their count in *n_fds (in: room,
 * at most SK_MAX_PASSED_FDS), or a negative errno (-EINTR: call again). */
ssize_t sk_recv_fds(int sock, void *data, size_t len, int *fds, size_t *n_fds);

/* Ask the scheduler for its shortest slice (true: a process that wakes up
 * only to hand things on: the daemon, its spares, the sandbox's broker), or
 * the default one (false: before a command runs).  The calling thread;
 * best effort (src/util/slice.c). */
void sk_sched_short_slice(bool short_slice);

/* The CPUs the calling thread may use (allowed, or NULL to ask), less the
 * one it is on: where a new task that must run beside us at once should
 * start (one starts on its parent's CPU as often as not, and then waits for
 * the parent to sleep).  false when there is no other (src/util/slice.c). */
bool sk_sched_other_cpus(const cpu_set_t *allowed, cpu_set_t *out);

/* Read all of fd (<= max bytes) into a NUL-terminated buffer; -EFBIG past max. */
int sk_read_fd(int fd, size_t max, char **out, size_t *out_len);
/* A memfd (close-on-exec) holding len bytes of data, rewound to its start;
 * or a negative errno. */
int sk_memfd_of(const char *name, const void *data, size_t len);

/* Monotonic clock in nanoseconds. */
uint64_t sk_now_ns(void);

/* qsort that accepts an empty (possibly NULL) array: qsort(NULL, 0, ...)
 * is undefined behaviour. */
static inline void sk_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* mkdir -p, mode applied to created components. */
int sk_mkdir_p(const char *path, unsigned mode);

/* "content:sha256:HEX" of the first size bytes of fd (read with pread).
 * -ESTALE when the file is shorter than size. */
#define SK_FINGERPRINT_LEN (15 + 64)
int sk_fingerprint_fd(int fd, uint64_t size, char out[SK_FINGERPRINT_LEN + 1]);
/* The same key for bytes in memory (a withheld variable's value). */
void sk_fingerprint_bytes(const void *data, size_t len, char out[SK_FINGERPRINT_LEN + 1]);

#endif
