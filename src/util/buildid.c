/* The GNU build id of the running program: what the caches key on, so
 * that another build of the code never takes an entry made by this one. */
#include <elf.h>
#include <link.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "stockade/util.h"

typedef struct found {
	unsigned char *out;
	size_t cap, len;
} found;

/* The build id note of the first object (the program itself). */
static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	found *f = data;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*nh);
			const char *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (desc + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
			    nh->n_descsz <= f->cap) {
				memcpy(f->out, desc, nh->n_descsz);
				f->len = nh->n_descsz;
				return 1;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;   /* only the first object */
}

size_t sk_build_id(unsigned char *out, size_t cap)
{
	found f = { .out = out, .cap = cap };
	dl_iterate_phdr(first_object, &f);
	return f.len;
}

int sk_cache_file(const char *cache_dir, const char *subdir, const sk_bytes *parts, size_t n, char *out,
		  size_t cap)
{
	unsigned char id[SK_BUILD_ID_MAX], h[16];
	size_t id_len = sk_build_id(id, sizeof(id));
	crypto_generichash_state st;
	if (!cache_dir || !id_len || sodium_init() < 0 || crypto_generichash_init(&st, NULL, 0, sizeof(h)) != 0)
		return -ENOENT;
	crypto_generichash_update(&st, id, id_len);
	for (size_t i = 0; i < n; i++)
		crypto_generichash_update(&st, parts[i].p, parts[i].n);
	crypto_generichash_final(&st, h, sizeof(h));
	char hex[2 * sizeof(h) + 1];
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	int len = snprintf(out, cap, "%s/%s/%s", cache_dir, subdir, hex);
	return len > 0 && (size_t)len < cap ? 0 : -ENAMETOOLONG;
}
