/* The compiled pattern databases at run time: the start-of-match database
 * of a rule, loaded from its blob or the cache file on first use (or
 * compiled, where the compiler is linked in: see compile.c and
 * compile_exec.c), and the freeing of it all.  Nothing here needs the
 * pattern compiler. */
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

static int load_som(const rx_ruleset *rs, const rx_patterns *p, size_t i, hs_database_t **out)
{
	if (p->som_len[i] && p->som_blob) {
		const char *bytes = (const char *)p->som_blob + p->som_off[i];
		return hs_deserialize_database(bytes, p->som_len[i], out) == HS_SUCCESS ? 0 : -EBADMSG;
	}
	if (p->som_len[i] && p->som_fd >= 0) {
		_cleanup_free_ char *bytes = malloc(p->som_len[i]);
		if (!bytes)
			return -ENOMEM;
		ssize_t n = pread(p->som_fd, bytes, p->som_len[i], (off_t)p->som_off[i]);
		if (n == (ssize_t)p->som_len[i] &&
		    hs_deserialize_database(bytes, p->som_len[i], out) == HS_SUCCESS)
			return 0;
		/* The cache file went bad under us: compile instead. */
	}
	return rx_compile_som(&rs->v[i], out, NULL);
}

int rx_som_db(const rx_ruleset *rs, rx_patterns *p, size_t i, hs_database_t **out)
{
	int e = 0;
	pthread_mutex_lock(&p->som_lock);
	if (!p->som[i])
		e = load_som(rs, p, i, &p->som[i]);
	*out = p->som[i];
	pthread_mutex_unlock(&p->som_lock);
	return e;
}

int rx_patterns_lazy_init(rx_patterns *p)
{
	p->som = calloc(p->n + 1, sizeof(*p->som));
	if (!p->som)
		return -ENOMEM;
	pthread_mutex_init(&p->som_lock, NULL);
	return 0;
}

void rx_patterns_free(rx_patterns *p)
{
	if (p->som) {
		for (size_t i = 0; i < p->n; i++)
			hs_free_database(p->som[i]);
		free(p->som);
		pthread_mutex_destroy(&p->som_lock);
	}
	hs_free_database(p->stream_db);
	hs_free_database(p->prefix_db);
	free(p->max_width);
	free(p->som_blob);
	if (p->som_fd >= 0)
		close(p->som_fd);
	free(p->som_off);
	free(p->som_len);
	free(p->entry_path);
	*p = (rx_patterns){ .som_fd = -1 };
}
