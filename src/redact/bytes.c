/* A growable byte buffer for the encoders (the cache entry, the rules'
 * wire form): appends never fail one by one; the first failure is kept and
 * the rest do nothing, so an encoder checks once at the end. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void rx_bytes_put(rx_bytes *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) {   /* the doubling below stays in range */
		b->err = -E2BIG;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 256;
		uint8_t *grown = realloc(b->buf, cap);
		if (!grown) {
			b->err = -ENOMEM;
			return;
		}
		b->buf = grown;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}
