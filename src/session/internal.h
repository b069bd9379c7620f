/* Internal interfaces between the files of src/session/. */
#ifndef STOCKADE_SESSION_INTERNAL_H
#define STOCKADE_SESSION_INTERNAL_H

#include <errno.h>
#include <unistd.h>

#include "stockade/session.h"

/* fold.c: apply one journal record to the in-memory state. */
int sk_session_fold(sk_session *s, const json_t *rec, sk_error *err);

#endif
