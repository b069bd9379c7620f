/* The values inside a secret file: each line, each key=value / key: value
 * (INI, YAML, .env, .netrc-like "key value" is covered by the line), and
 * every string of a JSON document; with the key a value stands under
 * (NULL for a whole line, a list item, an array element). */
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
	int e = fn(ctx, NULL, 0, line, len);
	if (e < 0)
		return e;
	/* YAML list item. */
	if (len > 2 && line[0] == '-' && line[1] == ' ') {
		const char *v = line + 2;
		size_t vl = len - 2;
		trim(&v, &vl);
		unquote(&v, &vl);
		if ((e = fn(ctx, NULL, 0, v, vl)) < 0)
			return e;
	}
	const char *eq = memchr(line, '=', len);
	const char *colon = memchr(line, ':', len);
	const char *sep = !eq ? colon : !colon ? eq : eq < colon ? eq : colon;
	if (!sep)
		return 0;
	const char *key = line, *v = sep + 1;
	size_t kl = (size_t)(sep - line), vl = len - (size_t)(v - line);
	trim(&key, &kl);
	if (kl > 7 && !memcmp(key, "export ", 7)) {
		key += 7;
		kl -= 7;
		trim(&key, &kl);
	}
	unquote(&key, &kl);
	trim(&v, &vl);
	if ((e = fn(ctx, key, kl, v, vl)) < 0)
		return e;
	const char *uq = v;
	size_t uql = vl;
	unquote(&uq, &uql);
	return uql != vl ? fn(ctx, key, kl, uq, uql) : 0;
}

static int json_strings(json_t *j, const char *key, rx_value_fn fn, void *ctx, int depth)
{
	if (depth > 64)
		return 0;
	int e = 0;
	if (json_is_string(j))
		return fn(ctx, key, key ? strlen(key) : 0, json_string_value(j), json_string_length(j));
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			if ((e = json_strings(v, k, fn, ctx, depth + 1)) < 0)
				return e;
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			if ((e = json_strings(v, NULL, fn, ctx, depth + 1)) < 0)
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
	int e = json_strings(j, NULL, fn, ctx, 0);
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
