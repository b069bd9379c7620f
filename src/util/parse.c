/* Parsing of the numbers users type: sizes, durations, counts. */
#include <ctype.h>
#include <string.h>

#include "stockade/util.h"

int sk_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Split "123abc" into 123 and "abc". */
static int leading_u64(const char *s, uint64_t *v, const char **rest)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	uint64_t acc = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return -ERANGE;
		acc = acc * 10 + d;
	}
	*v = acc;
	*rest = s;
	return 0;
}

static int scale(uint64_t v, uint64_t mul, uint64_t *out)
{
	if (mul && v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int sk_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *rest;
	int r = leading_u64(s, &v, &rest);
	if (r < 0)
		return r;
	static const struct { const char *suffix; uint64_t mul; } units[] = {
		{ "", 1 }, { "b", 1 }, { "B", 1 },
		{ "k", 1ULL << 10 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "m", 1ULL << 20 }, { "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "g", 1ULL << 30 }, { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
		{ "t", 1ULL << 40 }, { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(units); i++)
		if (strcmp(rest, units[i].suffix) == 0)
			return scale(v, units[i].mul, out);
	return -EINVAL;
}

int sk_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	uint64_t v;
	const char *rest;
	int r = leading_u64(s, &v, &rest);
	if (r < 0)
		return r;
	/* Fractional seconds: "1.5" or "0.25s". */
	if (*rest == '.') {
		uint64_t frac = 0, div = 1;
		rest++;
		if (!isdigit((unsigned char)*rest))
			return -EINVAL;
		for (; isdigit((unsigned char)*rest); rest++)
			if (div < 1000) {
				frac = frac * 10 + (uint64_t)(*rest - '0');
				div *= 10;
			}
		if (*rest && strcmp(rest, "s") != 0)
			return -EINVAL;
		uint64_t ms;
		if (scale(v, 1000, &ms) < 0)
			return -ERANGE;
		*out_ms = ms + frac * 1000 / div;
		return 0;
	}
	static const struct { const char *suffix; uint64_t mul; } units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "h", 3600000 },
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(units); i++)
		if (strcmp(rest, units[i].suffix) == 0)
			return scale(v, units[i].mul, out_ms);
	return -EINVAL;
}
