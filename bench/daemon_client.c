/* bench/daemon.sh's C client: C connections to stockaded, one session and
 * one thread each, run TOTAL execs of /bin/true between them, one at a time
 * per connection, THINK_MS apart.  Prints the JSON of
 * integration/daemon_load.py's bench mode.  A C client, so that what is
 * measured is the daemon and its socket, not the client's own JSON parser
 * and thread wake-ups (the Python client adds ~0.3 ms to each exec).
 *
 * usage: daemon_client SOCKET WS CLIENTS TOTAL [THINK_MS] */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	int fd;
	char buf[65536];
	size_t len;
	char sid[128];
} conn;

static const char *sock_path, *ws;
static atomic_long left;
static double think_ms;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double *lat, *over;
static size_t n_done;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "daemon_client: %s\n", what);
	exit(1);
}

/* The next line from the daemon, parsed. */
static json_t *read_msg(conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			json_error_t je;
			json_t *m = json_loadb(c->buf, (size_t)(nl - c->buf), 0, &je);
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			if (!m)
				die("bad JSON from the daemon");
			return m;
		}
		if (c->len == sizeof(c->buf))
			die("line too long");
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			die("connection closed");
		c->len += (size_t)n;
	}
}

/* Send one request, return its response (notifications skipped). */
static json_t *call(conn *c, const char *line, json_int_t id)
{
	size_t n = strlen(line);
	if (write(c->fd, line, n) != (ssize_t)n)
		die("write failed");
	for (;;) {
		json_t *m = read_msg(c);
		if (json_integer_value(json_object_get(m, "id")) == id)
			return m;
		json_decref(m);
	}
}

static void conn_open(conn *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("cannot connect");
	json_t *req = json_pack("{s:s, s:i, s:s, s:{s:s}}", "jsonrpc", "2.0", "id", 1, "method", "session.open",
				"params", "workspace", ws);
	char *text = json_dumps(req, JSON_COMPACT);
	char line[4096];
	snprintf(line, sizeof(line), "%s\n", text);
	free(text);
	json_decref(req);
	json_t *r = call(c, line, 1);
	const char *sid = json_string_value(json_object_get(json_object_get(r, "result"), "session"));
	if (!sid)
		die("session.open failed");
	snprintf(c->sid, sizeof(c->sid), "%s", sid);
	json_decref(r);
}

static void *client(void *arg)
{
	conn *c = arg;
	char line[512];
	for (json_int_t id = 2; atomic_fetch_sub(&left, 1) > 0; id++) {
		if (think_ms > 0)
			usleep((useconds_t)(think_ms * 1000));
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"exec\",\"params\":{\"session\":\"%s\","
			 "\"argv\":[\"/bin/true\"]}}\n",
			 (long long)id, c->sid);
		double t0 = now_s();
		json_t *r = call(c, line, id);
		double dt = now_s() - t0;
		json_t *res = json_object_get(r, "result");
		if (json_integer_value(json_object_get(res, "exit")) != 0 || !json_object_get(res, "run_ms"))
			die("exec failed");
		double run = json_number_value(json_object_get(res, "run_ms")) / 1000;
		json_decref(r);
		pthread_mutex_lock(&mu);
		lat[n_done] = dt;
		over[n_done++] = dt - run;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pick(double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);
	return v[i < n ? i : n - 1] * 1000;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		die("usage: daemon_client SOCKET WS CLIENTS TOTAL [THINK_MS]");
	sock_path = argv[1];
	ws = argv[2];
	int nc = atoi(argv[3]);
	long total = atol(argv[4]);
	think_ms = argc > 5 ? atof(argv[5]) : 0;
	if (nc < 1 || total < 1)
		die("CLIENTS and TOTAL must be positive");
	atomic_init(&left, total);
	lat = calloc((size_t)total, sizeof(*lat));
	over = calloc((size_t)total, sizeof(*over));
	conn *cs = calloc((size_t)nc, sizeof(*cs));
	pthread_t *th = calloc((size_t)nc, sizeof(*th));
	if (!lat || !over || !cs || !th)
		die("out of memory");
	for (int i = 0; i < nc; i++)
		conn_open(&cs[i]);
	double t0 = now_s();
	for (int i = 0; i < nc; i++)
		if (pthread_create(&th[i], NULL, client, &cs[i]))
			die("pthread_create failed");
	for (int i = 0; i < nc; i++)
		pthread_join(th[i], NULL);
	double wall = now_s() - t0;
	qsort(lat, n_done, sizeof(*lat), cmp);
	qsort(over, n_done, sizeof(*over), cmp);
	printf("{\"clients\": %d, \"execs\": %zu, \"per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
	       "\"overhead_p50_ms\": %.3f, \"overhead_p99_ms\": %.3f}\n",
	       nc, n_done, (double)n_done / wall, pick(lat, n_done, .5), pick(lat, n_done, .99),
	       pick(over, n_done, .5), pick(over, n_done, .99));
	return 0;
}
