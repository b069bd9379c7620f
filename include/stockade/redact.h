/* stockade — the streaming redactor (src/redact/).
 *
 * OWNED BY THE REDACT WORK (issue 5).  The sandbox's output relay depends
 * only on the stream functions below: one stream per output (stdout,
 * stderr); every byte goes through sk_redact_feed() before it reaches the
 * sink, and sk_redact_finish() flushes what was held back.  The rest of
 * this header (how a redactor is built) belongs to the redact part.
 */
#ifndef STOCKADE_REDACT_H
#define STOCKADE_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "stockade/util.h"

typedef struct sk_redactor sk_redactor;           /* compiled rules + literals; read-only once built */
typedef struct sk_redact_stream sk_redact_stream; /* per-output streaming state */

/* Where redacted bytes go.  Returns 0 or a negative errno (which aborts the feed). */
typedef int (*sk_redact_sink)(void *ctx, const void *buf, size_t len);

int sk_redact_stream_new(const sk_redactor *r, sk_redact_sink sink, void *sink_ctx,
			 sk_redact_stream **out);
int sk_redact_feed(sk_redact_stream *s, const void *buf, size_t len);
int sk_redact_finish(sk_redact_stream *s);
void sk_redact_stream_free(sk_redact_stream *s);

void sk_redactor_free(sk_redactor *r);

#endif
