/* SHA-256 for the receipt log's hot paths (verify hashes every line twice).
 * libsodium's SHA-256 is portable C; on x86-64 CPUs with the SHA extensions
 * the compression function below runs several times faster.  Without them
 * everything goes to libsodium.  Unit tests compare the two on many lengths
 * and split points. */
#include <string.h>

#include "internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* SHA, SSSE3 (pshufb) and SSE4.1 (pblendw), asked of the CPU once: cpuid
 * traps to the hypervisor in a VM and costs more than hashing a line. */
static bool cpu_has_sha_ni(void)
{
	static int known;   /* 0 unknown, 1 no, 2 yes; every thread finds the same */
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (k)
		return k == 2;
	unsigned a, b, c, d;
	bool yes = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
		   __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
	__atomic_store_n(&known, yes ? 2 : 1, __ATOMIC_RELAXED);
	return yes;
}

static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Four rounds on schedule words x (with their constants added). */
#define ROUNDS4(x, g)                                                                   \
	do {                                                                            \
		__m128i m_ = _mm_add_epi32((x), _mm_load_si128((const __m128i *)&K[4 * (g)])); \
		s1 = _mm_sha256rnds2_epu32(s1, s0, m_);                                 \
		s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m_, 0x0E));        \
	} while (0)
/* The next four schedule words into x0, from the sixteen before them. */
#define SCHEDULE(x0, x1, x2, x3)                                                        \
	x0 = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(x0, x1),            \
						_mm_alignr_epi8(x3, x2, 4)), x3)

/* The compression function over n 64-byte blocks.  The SHA instructions
 * keep the state as ABEF and CDGH; each group of four rounds takes four
 * schedule words, which msg1/msg2 extend four at a time.  Written out so
 * that the schedule stays in registers. */
__attribute__((target("sha,ssse3,sse4.1")))
static void blocks_sha_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);   /* CDAB */
	__m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);  /* EFGH */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);        /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xF0);             /* CDGH */
	for (; n; n--, p += 64) {
		__m128i save0 = s0, save1 = s1;
		__m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
		ROUNDS4(w0, 0);
		ROUNDS4(w1, 1);
		ROUNDS4(w2, 2);
		ROUNDS4(w3, 3);
		for (int g = 4; g < 16; g += 4) {
			SCHEDULE(w0, w1, w2, w3);
			ROUNDS4(w0, g);
			SCHEDULE(w1, w2, w3, w0);
			ROUNDS4(w1, g + 1);
			SCHEDULE(w2, w3, w0, w1);
			ROUNDS4(w2, g + 2);
			SCHEDULE(w3, w0, w1, w2);
			ROUNDS4(w3, g + 3);
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);               /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);              /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xF0);             /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);                /* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], s0);
	_mm_storeu_si128((__m128i *)&h[4], s1);
}
#else
static bool cpu_has_sha_ni(void)
{
	return false;
}
static void blocks_sha_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h, (void)p, (void)n;
}
#endif

static const uint32_t H0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

void sk_sha256_init(sk_sha256_ctx *c)
{
	c->sha_ni = cpu_has_sha_ni();
	c->fill = 0;
	c->total = 0;
	if (c->sha_ni)
		memcpy(c->h, H0, sizeof(H0));
	else
		crypto_hash_sha256_init(&c->sodium);
}

void sk_sha256_update(sk_sha256_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	if (!c->sha_ni) {
		crypto_hash_sha256_update(&c->sodium, p, len);
		return;
	}
	c->total += len;
	if (c->fill) {
		size_t take = 64 - c->fill < len ? 64 - c->fill : len;
		memcpy(c->buf + c->fill, p, take);
		c->fill += take;
		p += take;
		len -= take;
		if (c->fill < 64)
			return;
		blocks_sha_ni(c->h, c->buf, 1);
		c->fill = 0;
	}
	if (len >= 64) {
		blocks_sha_ni(c->h, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	memcpy(c->buf, p, len);
	c->fill = len;
}

void sk_sha256_final(sk_sha256_ctx *c, unsigned char out[32])
{
	if (!c->sha_ni) {
		crypto_hash_sha256_final(&c->sodium, out);
		return;
	}
	uint64_t bits = c->total * 8;
	c->buf[c->fill++] = 0x80;
	if (c->fill > 56) {
		memset(c->buf + c->fill, 0, 64 - c->fill);
		blocks_sha_ni(c->h, c->buf, 1);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, 56 - c->fill);
	for (int i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks_sha_ni(c->h, c->buf, 1);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

void sk_sha256(const void *data, size_t len, unsigned char out[32])
{
	sk_sha256_ctx c;
	sk_sha256_init(&c);
	sk_sha256_update(&c, data, len);
	sk_sha256_final(&c, out);
}
