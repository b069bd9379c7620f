/* The values inside a secret file: each line, each key=value / key: value
 * (INI, YAML, .env, .netrc-like "key value" is covered by the line), and
 * every string of a JSON document. */
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "internal.h"

static void trim(const char **p, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

static void unquote(const char **p, size_t *len)
{
	if (*len >= 2 && ((*p)[0] == '"' || (*p)[0] == '\'') && (*p)[*len - 1] == (*p)[0]) {
		(*p)++;
		*len -= 2;
	}
}

static int line_values(const char *line, size_t len, rx_value_fn fn, void *ctx)
{
	trim(&line, &len);
	if (len == 0)
		return 0;
	int e = fn(ctx, line, len);
	if (e < 0)
		return e;
	/* YAML list item. */
	if (len > 2 && line[0] == '-' && line[1] == ' ') {
		const char *v = line + 2;
		size_t vl = len - 2;
		trim(&v, &vl);
		unquote(&v, &vl);
		if ((e = fn(ctx, v, vl)) < 0)
			return e;
	}
	const char *eq = memchr(line, '=', len);
	const char *colon = memchr(line, ':', len);
	const char *sep = !eq ? colon : !colon ? eq : eq < colon ? eq : colon;
	if (!sep)
		return 0;
	const char *v = sep + 1;
	size_t vl = len - (size_t)(v - line);
	trim(&v, &vl);
	if ((e = fn(ctx, v, vl)) < 0)
		return e;
	const char *uq = v;
	size_t uql = vl;
	unquote(&uq, &uql);
	return uql != vl ? fn(ctx, uq, uql) : 0;
}

static int json_strings(json_t *j, rx_value_fn fn, void *ctx, int depth)
{
	if (depth > 64)
		return 0;
	int e = 0;
	if (json_is_string(j))
		return fn(ctx, json_string_value(j), json_string_length(j));
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
			if ((e = json_strings(v, fn, ctx, depth + 1)) < 0)
				return e;
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			if ((e = json_strings(v, fn, ctx, depth + 1)) < 0)
				return e;
	}
	return 0;
}

static int json_values(const char *data, size_t len, rx_value_fn fn, void *ctx)
{
	const char *p = data;
	size_t l = len;
	trim(&p, &l);
	if (l == 0 || (p[0] != '{' && p[0] != '['))
		return 0;
	json_t *j = json_loadb(p, l, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!j)
		return 0;
	int e = json_strings(j, fn, ctx, 0);
	json_decref(j);
	return e;
}

int rx_content_values(const char *data, size_t len, rx_value_fn fn, void *ctx)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		int e = line_values(p, (size_t)(eol - p), fn, ctx);
		if (e < 0)
			return e;
		p = nl ? nl + 1 : end;
	}
	return json_values(data, len, fn, ctx);
}
