/* Content fingerprints: "content:sha256:HEX" of a file, the key under
 * which a copy of a secret is recognised whatever its name or inode. */
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>

#include "stockade/util.h"

static void hex_key(const unsigned char *h, char out[SK_FINGERPRINT_LEN + 1])
{
	int k = snprintf(out, SK_FINGERPRINT_LEN + 1, "content:sha256:");
	for (size_t i = 0; i < crypto_hash_sha256_BYTES; i++)
		k += snprintf(out + k, SK_FINGERPRINT_LEN + 1 - (size_t)k, "%02x", h[i]);
}

void sk_fingerprint_bytes(const void *data, size_t len, char out[SK_FINGERPRINT_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	hex_key(h, out);
}

int sk_fingerprint_fd(int fd, uint64_t size, char out[SK_FINGERPRINT_LEN + 1])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char buf[65536];
	uint64_t off = 0;
	while (off < size) {
		size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ESTALE;   /* it shrank while we read: not the size we matched */
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		off += (uint64_t)n;
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	hex_key(h, out);
	return 0;
}
