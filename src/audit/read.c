/* Reading receipt logs record by record (no verification: see verify.c). */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

int sk_audit_read(const char *const *files, size_t n_files, sk_audit_record_fn fn,
		  void *ctx, sk_error *err)
{
	for (size_t i = 0; i < n_files; i++) {
		_cleanup_fclose_ FILE *f = fopen(files[i], "re");
		if (!f)
			return sk_fail_errno(err, errno, "cannot open %s", files[i]);
		_cleanup_free_ char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		for (uint64_t lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
			if (len == 0 || line[len - 1] != '\n')
				return sk_fail(err, EBADMSG, "%s:%" PRIu64 ": torn last line (no newline)",
					       files[i], lineno);
			json_t *rec = sk_log_parse_line(line, (size_t)len - 1, err);
			if (!rec)
				return sk_fail(err, EBADMSG, "%s:%" PRIu64 ": %s", files[i], lineno,
					       err ? err->msg : "bad record");
			int r = fn(rec, files[i], lineno, ctx);
			json_decref(rec);
			if (r)
				return r;
		}
		if (ferror(f))
			return sk_fail_errno(err, errno, "cannot read %s", files[i]);
	}
	return 0;
}
