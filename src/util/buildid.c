/* The GNU build id of the running program: what the caches key on, so
 * that another build of the code never takes an entry made by this one. */
#include <elf.h>
#include <link.h>
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
