/*
 * elf_patch.c - replace DT_NEEDED names, growing .dynstr (see elf.h).
 *
 * The string table only grows: the old bytes stay where they are and the
 * new table (old bytes + appended names) goes into one new R+W PT_LOAD at
 * the end of the file, together with a new program header table (the old
 * entries plus that LOAD). Every other offset into the old table stays
 * valid, nothing below the lowest existing address moves, and the section
 * header table stays in place.
 */
#include "elf_io.h"

#include <stdlib.h>
#include <string.h>

#define SHT_STRTAB 3u
#define SHT_SYMTAB 2u
#define SHT_DYNSYM 11u
#define STT_SECTION 3u
#define SHF_WRITE 1u
#define SHF_ALLOC 2u
#define PF_W 2u
#define PF_R 4u
#define MAX_ALIGN (16u << 20)

/* The page size the machine's linkers align LOADs to. */
static uint64_t page_size(uint16_t machine)
{
	switch (machine) {
	case 8:   /* EM_MIPS */
	case 20:  /* EM_PPC */
	case 21:  /* EM_PPC64 */
	case 183: /* EM_AARCH64 */
		return 65536;
	case 2:   /* EM_SPARC */
	case 43:  /* EM_SPARCV9 */
		return 8192;
	default:
		return 4096;
	}
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Offset of `s` (with its NUL) in `table`, or -1. */
static int64_t find_string(const uint8_t *table, size_t len, const char *s)
{
	size_t n = strlen(s) + 1;

	for (size_t i = 0; i + n <= len; i++)
		if (table[i] == (uint8_t)s[0] && memcmp(table + i, s, n) == 0)
			return (int64_t)i;
	return -1;
}

/* Offsets of the replacement names in the new string table; the names
 * that must be appended go into *extra (malloc'd). */
static int place_strings(const elf_file *e, const elf_patch_options *o,
			 uint64_t *offsets, uint8_t **extra, size_t *extra_len)
{
	const uint8_t *table = e->data + e->strtab_offset;
	size_t total = 0;

	for (size_t i = 0; i < o->n_names; i++)
		if (o->new_names[i])
			total += strlen(o->new_names[i]) + 1;
	*extra = malloc(total ? total : 1);
	*extra_len = 0;
	if (!*extra)
		return elf_fail("out of memory");
	for (size_t i = 0; i < o->n_names; i++) {
		const char *name = o->new_names[i];
		if (!name)
			continue;
		int64_t at = find_string(table, e->strsz, name);
		if (at >= 0) {
			offsets[i] = (uint64_t)at;
			continue;
		}
		at = find_string(*extra, *extra_len, name);
		if (at >= 0) {
			offsets[i] = e->strsz + (uint64_t)at;
			continue;
		}
		size_t n = strlen(name) + 1;
		offsets[i] = e->strsz + *extra_len;
		memcpy(*extra + *extra_len, name, n);
		*extra_len += n;
	}
	return 0;
}

/* Rewrite the dynamic array: retarget DT_NEEDED, drop DT_RPATH/RUNPATH
 * if asked (later entries move up; the freed slots become DT_NULL). */
static void write_dynamic(const elf_file *e, uint8_t *buf,
			  const elf_patch_options *o, const uint64_t *offsets,
			  int grow, uint64_t strtab, uint64_t strsz)
{
	size_t dsz = elf_dyn_size(e), out = 0, k = 0;

	for (size_t i = 0; i < e->ndyn; i++) {
		elf_dyn d = e->dyn[i];
		if (d.tag == ELF_DT_NEEDED) {
			if (o->new_names[k])
				d.val = offsets[k];
			k++;
		} else if ((d.tag == ELF_DT_RPATH || d.tag == ELF_DT_RUNPATH) &&
			   o->remove_rpath) {
			continue;
		} else if (d.tag == ELF_DT_STRTAB && grow) {
			d.val = strtab;
		} else if (d.tag == ELF_DT_STRSZ && grow) {
			d.val = strsz;
		}
		elf_write_dyn(e, buf + e->dyn_offset + out * dsz, &d);
		out++;
	}
	elf_dyn null = { ELF_DT_NULL, 0 };
	for (; out < e->ndyn; out++)
		elf_write_dyn(e, buf + e->dyn_offset + out * dsz, &null);
}

/* Point the vn_file of every replaced library at its new name. */
static void write_verneed(const elf_file *e, uint8_t *buf,
			  const elf_patch_options *o, const uint64_t *offsets)
{
	uint64_t off = e->verneed_offset;

	for (uint64_t n = 0; n < e->verneed_num; n++) {
		const char *file = elf_dynstr(e, elf_rd(e, e->data + off + 4, 4));
		for (size_t i = 0; i < o->n_names; i++) {
			if (o->new_names[i] &&
			    strcmp(file, elf_needed(e, i)) == 0) {
				elf_wr(e, buf + off + 4, 4, offsets[i]);
				break;
			}
		}
		off += elf_rd(e, e->data + off + 12, 4);
	}
}

/* Section symbols of .dynstr (in .symtab or .dynsym) follow the table to
 * its new address. */
static void write_section_symbols(const elf_file *e, uint8_t *buf,
				  size_t dynstr, uint64_t strtab)
{
	size_t sym_size = e->is64 ? 24 : 16;

	for (size_t i = 1; i < e->shnum; i++) {
		const elf_shdr *s = &e->shdrs[i];
		if ((s->type != SHT_SYMTAB && s->type != SHT_DYNSYM) ||
		    s->entsize != sym_size)
			continue;
		for (uint64_t off = s->offset; off + sym_size <= s->offset + s->size;
		     off += sym_size) {
			uint8_t *p = buf + off;
			unsigned info = e->is64 ? p[4] : p[12];
			uint64_t shndx = elf_rd(e, e->is64 ? p + 6 : p + 14, 2);
			if ((info & 0xf) == STT_SECTION && shndx == dynstr)
				elf_wr(e, e->is64 ? p + 8 : p + 4, elf_word(e),
				       strtab);
		}
	}
}

/* The name of the section that covers the new program header table:
 * the new segment is writable, and a writable segment must hold a
 * writable section (eu-elflint checks it). */
#define SECTION_NAME ".eris.phdr"
#define SHT_PROGBITS 1u

static int has_shstrtab(const elf_file *e)
{
	if (e->shnum == 0 || e->shstrndx == 0 || e->shstrndx >= e->shnum ||
	    e->shnum >= 0xff00u - 1)
		return 0;
	const elf_shdr *s = &e->shdrs[e->shstrndx];
	return s->type == SHT_STRTAB && s->size > 0 &&
	       e->data[s->offset + s->size - 1] == 0;
}

/* The section header table, rewritten at `sht_at` after a copy of the
 * section name table at `shstr_at` that also names the new section:
 * .dynstr points at the new string table, and one new section covers
 * the new program header table. */
static void write_sections(const elf_file *e, uint8_t *buf, uint64_t shstr_at,
			   uint64_t sht_at, uint64_t phdr_off,
			   uint64_t phdr_vaddr, uint64_t phdr_size,
			   uint64_t str_off, uint64_t strtab, uint64_t strsz)
{
	const elf_shdr *names = &e->shdrs[e->shstrndx];
	unsigned w = elf_word(e);

	memcpy(buf + shstr_at, e->data + names->offset, names->size);
	memcpy(buf + shstr_at + names->size, SECTION_NAME, sizeof(SECTION_NAME));
	for (size_t i = 0; i < e->shnum; i++) {
		elf_shdr s = e->shdrs[i];
		if (i == e->shstrndx) {
			s.offset = shstr_at;
			s.size = names->size + sizeof(SECTION_NAME);
		} else if (i > 0 && s.type == SHT_STRTAB &&
			   (s.flags & SHF_ALLOC) && s.addr == e->strtab_vaddr) {
			s.addr = strtab;
			s.offset = str_off;
			s.size = strsz;
			write_section_symbols(e, buf, i, strtab);
		}
		elf_write_shdr(e, buf + sht_at + i * e->shentsize, &s);
	}
	elf_shdr phdr = { (uint32_t)names->size, SHT_PROGBITS,
			  SHF_ALLOC | SHF_WRITE, phdr_vaddr, phdr_off, phdr_size,
			  0, 0, 8, 0 };
	elf_write_shdr(e, buf + sht_at + (size_t)e->shnum * e->shentsize, &phdr);
	elf_wr(e, buf + 24 + 2 * w, w, sht_at);
	elf_wr(e, buf + 28 + 3 * w + 8, 2, e->shnum + 1u);
}

/* Without a usable section name table no section can be added: only
 * the .dynstr header (if any) is updated where it is. */
static void move_dynstr_in_place(const elf_file *e, uint8_t *buf,
				 uint64_t str_off, uint64_t strtab,
				 uint64_t strsz)
{
	for (size_t i = 1; i < e->shnum; i++) {
		elf_shdr s = e->shdrs[i];
		if (s.type != SHT_STRTAB || !(s.flags & SHF_ALLOC) ||
		    s.addr != e->strtab_vaddr)
			continue;
		s.addr = strtab;
		s.offset = str_off;
		s.size = strsz;
		write_section_symbols(e, buf, i, strtab);
		elf_write_shdr(e, buf + e->shoff + i * e->shentsize, &s);
	}
}

/* Check the result: it parses and validates, and its names are right. */
static int check_output(const elf_file *e, const uint8_t *buf, size_t size,
			const elf_patch_options *o)
{
	elf_file c;
	int rc = 0;

	if (elf_parse(&c, buf, size) != 0)
		return elf_fail("patched file does not validate: %s", elf_error());
	if (elf_needed_count(&c) != o->n_names)
		rc = elf_fail("patched file lost a DT_NEEDED entry");
	for (size_t i = 0; rc == 0 && i < o->n_names; i++) {
		const char *want = o->new_names[i] ? o->new_names[i] :
						     elf_needed(e, i);
		const char *got = elf_needed(&c, i);
		if (!got || strcmp(got, want) != 0)
			rc = elf_fail("patched file: DT_NEEDED %zu reads back "
				      "wrong", i);
	}
	if (rc == 0 && o->remove_rpath && elf_rpath(&c))
		rc = elf_fail("patched file still has an RPATH");
	elf_release(&c);
	return rc;
}

int elf_patch(uint8_t **out, size_t *out_size, int *changed,
	      const elf_file *e, const elf_patch_options *opts)
{
	elf_patch_options o = *opts;
	const char **names = NULL;
	uint64_t *offsets = NULL;
	uint8_t *extra = NULL, *buf = NULL;
	size_t extra_len = 0, size = e->size;
	int rc = -1, work = 0;

	*out = NULL;
	*out_size = 0;
	*changed = 0;
	if (o.n_names != elf_needed_count(e))
		return elf_fail("%zu names given for %zu DT_NEEDED entries",
				o.n_names, elf_needed_count(e));
	/* Only names that differ count as replacements. */
	names = calloc(o.n_names ? o.n_names : 1, sizeof(*names));
	offsets = calloc(o.n_names ? o.n_names : 1, sizeof(*offsets));
	if (!names || !offsets) {
		rc = elf_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < o.n_names; i++) {
		if (o.new_names[i] && strcmp(o.new_names[i], elf_needed(e, i))) {
			names[i] = o.new_names[i];
			work = 1;
		}
	}
	o.new_names = names;
	if (o.remove_rpath && !elf_rpath(e))
		o.remove_rpath = 0;
	work |= o.remove_rpath;
	if (!work) {
		rc = 0;
		goto out;
	}
	if (place_strings(e, &o, offsets, &extra, &extra_len) != 0)
		goto out;

	uint64_t new_off = 0, new_vaddr = 0, str_at = 0, seg_size = 0;
	uint64_t shstr_at = 0, sht_at = 0, align = 0;
	size_t new_phnum = e->phnum;
	if (extra_len > 0) {
		uint64_t end = 0;
		align = page_size(e->machine);
		for (size_t i = 0; i < e->phnum; i++) {
			const elf_phdr *p = &e->phdrs[i];
			if (p->type != ELF_PT_LOAD)
				continue;
			/* Larger alignments are honoured up to 16 MiB (as
			 * patchelf does): beyond, the padding is not worth it. */
			if (p->align > align && p->align <= MAX_ALIGN)
				align = p->align;
			if (p->vaddr + p->memsz > end)
				end = p->vaddr + p->memsz;
		}
		new_phnum = e->phnum + 1u;
		if (o.genode && new_phnum > 10) {
			rc = elf_fail("--genode: the new PT_LOAD would make %zu "
				      "program headers (Genode's loader takes "
				      "10)", new_phnum);
			goto out;
		}
		new_vaddr = round_up(end, align);
		new_off = round_up(e->size, align);
		str_at = round_up(new_phnum * e->phentsize, 8);
		seg_size = str_at + e->strsz + extra_len;
		uint64_t limit = e->is64 ? UINT64_MAX / 2 : UINT32_MAX;
		if (new_vaddr > limit - seg_size || new_off > limit - seg_size ||
		    new_vaddr < end) {
			rc = elf_fail("no address space left for a new segment");
			goto out;
		}
		size = (size_t)(new_off + seg_size);
		if (has_shstrtab(e)) {
			const elf_shdr *ss = &e->shdrs[e->shstrndx];
			shstr_at = size;
			sht_at = round_up(shstr_at + ss->size + sizeof(SECTION_NAME),
					  8);
			size = (size_t)(sht_at +
					(uint64_t)(e->shnum + 1) * e->shentsize);
		}
	}
	buf = calloc(1, size);
	if (!buf) {
		rc = elf_fail("out of memory");
		goto out;
	}
	memcpy(buf, e->data, e->size);

	uint64_t strtab = e->strtab_vaddr, strsz = e->strsz;
	if (extra_len > 0) {
		unsigned w = elf_word(e);
		uint8_t *seg = buf + new_off;
		/* The new program header table: the new LOAD goes right after
		 * the last LOAD so that LOADs stay sorted by address. */
		size_t last_load = 0;
		for (size_t i = 0; i < e->phnum; i++)
			if (e->phdrs[i].type == ELF_PT_LOAD)
				last_load = i;
		elf_phdr load = { ELF_PT_LOAD, PF_R | PF_W, new_off, new_vaddr,
				  new_vaddr, seg_size, seg_size, 0 };
		load.align = align;
		size_t j = 0;
		for (size_t i = 0; i < e->phnum; i++) {
			elf_phdr p = e->phdrs[i];
			if (p.type == ELF_PT_PHDR) {
				p.offset = new_off;
				p.vaddr = p.paddr = new_vaddr;
				p.filesz = p.memsz = new_phnum * e->phentsize;
			}
			elf_write_phdr(e, seg + j++ * e->phentsize, &p);
			if (i == last_load)
				elf_write_phdr(e, seg + j++ * e->phentsize, &load);
		}
		memcpy(seg + str_at, e->data + e->strtab_offset, e->strsz);
		memcpy(seg + str_at + e->strsz, extra, extra_len);
		strtab = new_vaddr + str_at;
		strsz = e->strsz + extra_len;
		/* e_phoff and e_phnum. */
		elf_wr(e, buf + 24 + w, w, new_off);
		elf_wr(e, buf + 28 + 3 * w + 4, 2, new_phnum);
		if (sht_at)
			write_sections(e, buf, shstr_at, sht_at, new_off, new_vaddr,
				       new_phnum * e->phentsize, new_off + str_at,
				       strtab, strsz);
		else
			move_dynstr_in_place(e, buf, new_off + str_at, strtab,
					     strsz);
	}
	write_dynamic(e, buf, &o, offsets, extra_len > 0, strtab, strsz);
	write_verneed(e, buf, &o, offsets);
	if (check_output(e, buf, size, &o) != 0)
		goto out;
	*out = buf;
	*out_size = size;
	*changed = 1;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	free(extra);
	free(offsets);
	free(names);
	return rc;
}
