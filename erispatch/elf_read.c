/*
 * elf_read.c - parse and validate an ELF file (see elf.h).
 */
#include "elf_io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHT_NOBITS 8u
#define SHF_ALLOC 2u
#define SHF_TLS 0x400u

static _Thread_local char last_error[256];

int elf_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *elf_error(void)
{
	return last_error;
}

int elf_is_elf(const uint8_t *data, size_t size)
{
	return size >= 4 && memcmp(data, "\177ELF", 4) == 0;
}

uint64_t elf_rd(const elf_file *e, const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++) {
		unsigned k = e->big_endian ? i : width - 1 - i;
		v = (v << 8) | p[k];
	}
	return v;
}

void elf_wr(const elf_file *e, uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++) {
		unsigned k = e->big_endian ? width - 1 - i : i;
		p[k] = (uint8_t)(v >> (8 * i));
	}
}

unsigned elf_word(const elf_file *e)
{
	return e->is64 ? 8 : 4;
}

/* Field offsets of a program header: Elf32_Phdr and Elf64_Phdr order
 * their fields differently (p_flags moves). */
void elf_read_phdr(const elf_file *e, const uint8_t *p, elf_phdr *ph)
{
	ph->type = (uint32_t)elf_rd(e, p, 4);
	if (e->is64) {
		ph->flags = (uint32_t)elf_rd(e, p + 4, 4);
		ph->offset = elf_rd(e, p + 8, 8);
		ph->vaddr = elf_rd(e, p + 16, 8);
		ph->paddr = elf_rd(e, p + 24, 8);
		ph->filesz = elf_rd(e, p + 32, 8);
		ph->memsz = elf_rd(e, p + 40, 8);
		ph->align = elf_rd(e, p + 48, 8);
	} else {
		ph->offset = elf_rd(e, p + 4, 4);
		ph->vaddr = elf_rd(e, p + 8, 4);
		ph->paddr = elf_rd(e, p + 12, 4);
		ph->filesz = elf_rd(e, p + 16, 4);
		ph->memsz = elf_rd(e, p + 20, 4);
		ph->flags = (uint32_t)elf_rd(e, p + 24, 4);
		ph->align = elf_rd(e, p + 28, 4);
	}
}

void elf_write_phdr(const elf_file *e, uint8_t *p, const elf_phdr *ph)
{
	elf_wr(e, p, 4, ph->type);
	if (e->is64) {
		elf_wr(e, p + 4, 4, ph->flags);
		elf_wr(e, p + 8, 8, ph->offset);
		elf_wr(e, p + 16, 8, ph->vaddr);
		elf_wr(e, p + 24, 8, ph->paddr);
		elf_wr(e, p + 32, 8, ph->filesz);
		elf_wr(e, p + 40, 8, ph->memsz);
		elf_wr(e, p + 48, 8, ph->align);
	} else {
		elf_wr(e, p + 4, 4, ph->offset);
		elf_wr(e, p + 8, 4, ph->vaddr);
		elf_wr(e, p + 12, 4, ph->paddr);
		elf_wr(e, p + 16, 4, ph->filesz);
		elf_wr(e, p + 20, 4, ph->memsz);
		elf_wr(e, p + 24, 4, ph->flags);
		elf_wr(e, p + 28, 4, ph->align);
	}
}

static void read_shdr(const elf_file *e, const uint8_t *p, elf_shdr *sh)
{
	unsigned w = elf_word(e);

	sh->name = (uint32_t)elf_rd(e, p, 4);
	sh->type = (uint32_t)elf_rd(e, p + 4, 4);
	sh->flags = elf_rd(e, p + 8, w);
	sh->addr = elf_rd(e, p + 8 + w, w);
	sh->offset = elf_rd(e, p + 8 + 2 * w, w);
	sh->size = elf_rd(e, p + 8 + 3 * w, w);
	sh->link = (uint32_t)elf_rd(e, p + 8 + 4 * w, 4);
	sh->info = (uint32_t)elf_rd(e, p + 12 + 4 * w, 4);
	sh->addralign = elf_rd(e, p + 16 + 4 * w, w);
	sh->entsize = elf_rd(e, p + 16 + 5 * w, w);
}

void elf_write_shdr(const elf_file *e, uint8_t *p, const elf_shdr *sh)
{
	unsigned w = elf_word(e);

	elf_wr(e, p, 4, sh->name);
	elf_wr(e, p + 4, 4, sh->type);
	elf_wr(e, p + 8, w, sh->flags);
	elf_wr(e, p + 8 + w, w, sh->addr);
	elf_wr(e, p + 8 + 2 * w, w, sh->offset);
	elf_wr(e, p + 8 + 3 * w, w, sh->size);
	elf_wr(e, p + 8 + 4 * w, 4, sh->link);
	elf_wr(e, p + 12 + 4 * w, 4, sh->info);
	elf_wr(e, p + 16 + 4 * w, w, sh->addralign);
	elf_wr(e, p + 16 + 5 * w, w, sh->entsize);
}

size_t elf_dyn_size(const elf_file *e)
{
	return 2 * elf_word(e);
}

void elf_write_dyn(const elf_file *e, uint8_t *p, const elf_dyn *d)
{
	unsigned w = elf_word(e);

	elf_wr(e, p, w, (uint64_t)d->tag);
	elf_wr(e, p + w, w, d->val);
}

/* [off, off + len) inside a buffer of `size` bytes, without overflow. */
static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int elf_vaddr_to_offset(const elf_file *e, uint64_t vaddr, uint64_t size,
			uint64_t *offset)
{
	for (size_t i = 0; i < e->phnum; i++) {
		const elf_phdr *p = &e->phdrs[i];
		if (p->type != ELF_PT_LOAD || vaddr < p->vaddr)
			continue;
		uint64_t rel = vaddr - p->vaddr;
		if (in_bounds(rel, size, p->filesz)) {
			*offset = p->offset + rel;
			return 0;
		}
	}
	return -1;
}

void elf_release(elf_file *e)
{
	free(e->phdrs);
	free(e->shdrs);
	free(e->dyn);
	memset(e, 0, sizeof(*e));
}

static int parse_header(elf_file *e)
{
	const uint8_t *d = e->data;

	if (e->size < 16 || !elf_is_elf(d, e->size))
		return elf_fail("not an ELF file");
	if (d[4] != 1 && d[4] != 2)
		return elf_fail("unknown ELF class %u", d[4]);
	if (d[5] != 1 && d[5] != 2)
		return elf_fail("unknown ELF data encoding %u", d[5]);
	if (d[6] != 1)
		return elf_fail("unknown ELF version %u", d[6]);
	e->is64 = d[4] == 2;
	e->big_endian = d[5] == 2;
	size_t ehsize = e->is64 ? 64 : 52;
	if (e->size < ehsize)
		return elf_fail("truncated ELF header");
	e->type = (uint16_t)elf_rd(e, d + 16, 2);
	e->machine = (uint16_t)elf_rd(e, d + 18, 2);
	if (e->type != 2 && e->type != 3)
		return elf_fail("unsupported ELF type %u (only ET_EXEC and ET_DYN)",
				e->type);
	unsigned w = elf_word(e);
	e->phoff = elf_rd(e, d + 24 + w, w);
	e->shoff = elf_rd(e, d + 24 + 2 * w, w);
	const uint8_t *h = d + 28 + 3 * w; /* after e_flags */
	e->phentsize = (uint16_t)elf_rd(e, h + 2, 2);
	e->phnum = (uint16_t)elf_rd(e, h + 4, 2);
	e->shentsize = (uint16_t)elf_rd(e, h + 6, 2);
	e->shnum = (uint16_t)elf_rd(e, h + 8, 2);
	e->shstrndx = (uint16_t)elf_rd(e, h + 10, 2);
	if (e->phnum == 0)
		return elf_fail("no program headers");
	if (e->phnum == 0xffff)
		return elf_fail("extended program header numbering is not supported");
	if (e->phentsize != (e->is64 ? 56 : 32))
		return elf_fail("bad e_phentsize %u", e->phentsize);
	if (!in_bounds(e->phoff, (uint64_t)e->phnum * e->phentsize, e->size))
		return elf_fail("program header table out of bounds");
	if (e->shnum == 0 && e->shoff != 0)
		return elf_fail("extended section numbering is not supported");
	if (e->shnum != 0) {
		if (e->shentsize != (e->is64 ? 64 : 40))
			return elf_fail("bad e_shentsize %u", e->shentsize);
		if (!in_bounds(e->shoff, (uint64_t)e->shnum * e->shentsize,
			       e->size))
			return elf_fail("section header table out of bounds");
	}
	return 0;
}

static int parse_tables(elf_file *e)
{
	e->phdrs = calloc(e->phnum, sizeof(elf_phdr));
	e->shdrs = calloc(e->shnum ? e->shnum : 1, sizeof(elf_shdr));
	if (!e->phdrs || !e->shdrs)
		return elf_fail("out of memory");
	for (size_t i = 0; i < e->phnum; i++)
		elf_read_phdr(e, e->data + e->phoff + i * e->phentsize,
			      &e->phdrs[i]);
	for (size_t i = 0; i < e->shnum; i++)
		read_shdr(e, e->data + e->shoff + i * e->shentsize, &e->shdrs[i]);
	return 0;
}

/* LOADs inside the file, sorted by vaddr, not overlapping, congruent. */
static int check_loads(const elf_file *e)
{
	const elf_phdr *prev = NULL;

	for (size_t i = 0; i < e->phnum; i++) {
		const elf_phdr *p = &e->phdrs[i];
		if (p->type != ELF_PT_LOAD)
			continue;
		if (p->filesz > p->memsz)
			return elf_fail("PT_LOAD %zu: filesz > memsz", i);
		if (!in_bounds(p->offset, p->filesz, e->size))
			return elf_fail("PT_LOAD %zu out of file bounds", i);
		if (p->vaddr + p->memsz < p->vaddr)
			return elf_fail("PT_LOAD %zu wraps around", i);
		if (p->align > 1 && ((p->align & (p->align - 1)) != 0 ||
				     p->offset % p->align != p->vaddr % p->align))
			return elf_fail("PT_LOAD %zu: bad alignment", i);
		if (prev && prev->vaddr + prev->memsz > p->vaddr)
			return elf_fail("PT_LOAD %zu is not sorted by address or "
					"overlaps the previous one", i);
		prev = p;
	}
	if (!prev)
		return elf_fail("no PT_LOAD segment");
	return 0;
}

static int check_sections(const elf_file *e)
{
	for (size_t i = 1; i < e->shnum; i++) {
		const elf_shdr *s = &e->shdrs[i];
		if (s->type != SHT_NOBITS && s->size > 0 &&
		    !in_bounds(s->offset, s->size, e->size))
			return elf_fail("section %zu out of file bounds", i);
		if (!(s->flags & SHF_ALLOC) || s->size == 0)
			continue;
		if (s->type == SHT_NOBITS && (s->flags & SHF_TLS))
			continue; /* .tbss occupies no address range of its own */
		int inside = 0;
		for (size_t j = 0; j < e->phnum && !inside; j++) {
			const elf_phdr *p = &e->phdrs[j];
			inside = p->type == ELF_PT_LOAD && s->addr >= p->vaddr &&
				 in_bounds(s->addr - p->vaddr, s->size, p->memsz);
		}
		if (!inside)
			return elf_fail("allocated section %zu (address 0x%llx) "
					"is outside every PT_LOAD", i,
					(unsigned long long)s->addr);
	}
	return 0;
}

static int parse_dynamic(elf_file *e)
{
	const elf_phdr *dynp = NULL;
	uint64_t strtab = 0, strsz = 0, verneed = 0, verneednum = 0;
	int have_strtab = 0, have_strsz = 0;

	for (size_t i = 0; i < e->phnum; i++) {
		if (e->phdrs[i].type != ELF_PT_DYNAMIC)
			continue;
		if (dynp)
			return elf_fail("more than one PT_DYNAMIC");
		dynp = &e->phdrs[i];
	}
	if (!dynp)
		return 0; /* a static file */
	if (!in_bounds(dynp->offset, dynp->filesz, e->size))
		return elf_fail("PT_DYNAMIC out of file bounds");
	size_t dsz = elf_dyn_size(e), cap = dynp->filesz / dsz;
	e->dyn = calloc(cap ? cap : 1, sizeof(elf_dyn));
	if (!e->dyn)
		return elf_fail("out of memory");
	e->dyn_offset = dynp->offset;
	e->dyn_capacity = cap;
	unsigned w = elf_word(e);
	for (size_t i = 0; i < cap; i++) {
		const uint8_t *p = e->data + dynp->offset + i * dsz;
		elf_dyn d;
		d.tag = (int64_t)elf_rd(e, p, w);
		if (!e->is64)
			d.tag = (int32_t)(uint32_t)d.tag;
		d.val = elf_rd(e, p + w, w);
		e->dyn[e->ndyn++] = d;
		if (d.tag == ELF_DT_NULL)
			break;
		switch (d.tag) {
		case ELF_DT_STRTAB: strtab = d.val; have_strtab = 1; break;
		case ELF_DT_STRSZ: strsz = d.val; have_strsz = 1; break;
		case ELF_DT_VERNEED: verneed = d.val; break;
		case ELF_DT_VERNEEDNUM: verneednum = d.val; break;
		default: break;
		}
	}
	if (e->ndyn == 0 || e->dyn[e->ndyn - 1].tag != ELF_DT_NULL)
		return elf_fail("dynamic section has no DT_NULL");
	if (!have_strtab || !have_strsz)
		return elf_fail("dynamic section lacks DT_STRTAB or DT_STRSZ");
	if (strsz == 0 ||
	    elf_vaddr_to_offset(e, strtab, strsz, &e->strtab_offset) != 0)
		return elf_fail("DT_STRTAB is not inside a PT_LOAD");
	if (e->data[e->strtab_offset + strsz - 1] != 0)
		return elf_fail("dynamic string table does not end in NUL");
	e->strtab_vaddr = strtab;
	e->strsz = strsz;
	for (size_t i = 0; i < e->ndyn; i++) {
		int64_t t = e->dyn[i].tag;
		if ((t == ELF_DT_NEEDED || t == ELF_DT_RPATH ||
		     t == ELF_DT_RUNPATH) && e->dyn[i].val >= strsz)
			return elf_fail("dynamic entry %zu: string offset out of "
					"range", i);
	}
	if (verneed && verneednum) {
		uint64_t off;
		if (elf_vaddr_to_offset(e, verneed, 16, &off) != 0)
			return elf_fail("DT_VERNEED is not inside a PT_LOAD");
		e->verneed_offset = off;
		e->verneed_num = verneednum;
		for (uint64_t n = 0; n < verneednum; n++) {
			if (!in_bounds(off, 16, e->size))
				return elf_fail("version need %llu out of bounds",
						(unsigned long long)n);
			if (elf_rd(e, e->data + off + 4, 4) >= strsz)
				return elf_fail("version need %llu: bad vn_file",
						(unsigned long long)n);
			uint64_t next = elf_rd(e, e->data + off + 12, 4);
			if (next == 0 && n + 1 < verneednum)
				return elf_fail("version need chain too short");
			off += next;
		}
	}
	return 0;
}

int elf_parse(elf_file *out, const uint8_t *data, size_t size)
{
	memset(out, 0, sizeof(*out));
	out->data = data;
	out->size = size;
	if (parse_header(out) != 0 || parse_tables(out) != 0 ||
	    check_loads(out) != 0 || check_sections(out) != 0 ||
	    parse_dynamic(out) != 0) {
		elf_release(out);
		return -1;
	}
	return 0;
}

const char *elf_dynstr(const elf_file *e, uint64_t offset)
{
	if (!e->dyn || offset >= e->strsz)
		return NULL;
	return (const char *)e->data + e->strtab_offset + offset;
}

size_t elf_needed_count(const elf_file *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->ndyn; i++)
		n += e->dyn[i].tag == ELF_DT_NEEDED;
	return n;
}

const char *elf_needed(const elf_file *e, size_t k)
{
	for (size_t i = 0; i < e->ndyn; i++)
		if (e->dyn[i].tag == ELF_DT_NEEDED && k-- == 0)
			return elf_dynstr(e, e->dyn[i].val);
	return NULL;
}

const char *elf_rpath(const elf_file *e)
{
	const char *rpath = NULL;

	for (size_t i = 0; i < e->ndyn; i++) {
		if (e->dyn[i].tag == ELF_DT_RUNPATH)
			return elf_dynstr(e, e->dyn[i].val);
		if (e->dyn[i].tag == ELF_DT_RPATH)
			rpath = elf_dynstr(e, e->dyn[i].val);
	}
	return rpath;
}
