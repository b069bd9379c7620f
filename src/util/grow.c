/* The growth of an array that is appended to one element at a time. */
#include <stdint.h>
#include <stdlib.h>

#include "stockade/util.h"

void *sk_grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	if (size == 0 || need > SIZE_MAX / 2 / size)
		return NULL;   /* doubling up to it would overflow */
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *nv = realloc(v, n * size);
	if (nv)
		*cap = n;
	return nv;
}
