/*
 * elf.h - a small ELF reader and DT_NEEDED patcher (no libelf).
 *
 * Handles ELF32 and ELF64, little and big endian, ET_EXEC and ET_DYN.
 * Every field is read through endian-aware helpers with bounds checks;
 * the file is never accessed through struct casts.
 *
 * Errors: functions return 0 or -1; elf_error() gives a one-line,
 * thread-local reason.
 */
#ifndef ERISPATCH_ELF_H
#define ERISPATCH_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_PT_LOAD 1u
#define ELF_PT_DYNAMIC 2u
#define ELF_PT_PHDR 6u

#define ELF_DT_NULL 0
#define ELF_DT_NEEDED 1
#define ELF_DT_STRTAB 5
#define ELF_DT_STRSZ 10
#define ELF_DT_RPATH 15
#define ELF_DT_RUNPATH 29
#define ELF_DT_VERNEED 0x6ffffffe
#define ELF_DT_VERNEEDNUM 0x6fffffff

/* A program header, widened to 64 bits. */
typedef struct elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
} elf_phdr;

/* A section header, widened to 64 bits. */
typedef struct elf_shdr {
	uint32_t name, type;
	uint64_t flags, addr, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
} elf_shdr;

/* A dynamic entry. */
typedef struct elf_dyn {
	int64_t tag;
	uint64_t val;
} elf_dyn;

/* A parsed ELF file. It borrows `data`, which must outlive it. */
typedef struct elf_file {
	const uint8_t *data;
	size_t size;
	int is64, big_endian;
	uint16_t type, machine;
	uint64_t phoff, shoff;
	uint16_t phnum, shnum, phentsize, shentsize, shstrndx;
	elf_phdr *phdrs;
	elf_shdr *shdrs;
	/* The dynamic section (NULL/0 for a static file). */
	elf_dyn *dyn;
	size_t ndyn;        /* entries up to and including DT_NULL */
	size_t dyn_capacity; /* entries that fit in PT_DYNAMIC's filesz */
	uint64_t dyn_offset;
	/* The dynamic string table. */
	uint64_t strtab_vaddr, strtab_offset, strsz;
	/* The version needs (DT_VERNEED), 0 if absent. */
	uint64_t verneed_offset, verneed_num;
} elf_file;

/** The message of the last failure on this thread. */
const char *elf_error(void);
/** 1 if the buffer starts with the ELF magic. */
int elf_is_elf(const uint8_t *data, size_t size);

/**
 * Parse and validate `size` bytes. Unsupported types (ET_REL, ET_CORE)
 * and every inconsistency (a table out of bounds, unsorted LOADs, an
 * allocated section outside all LOADs, DT_STRTAB outside all LOADs,
 * unterminated strings) are errors. Free with elf_release().
 */
int elf_parse(elf_file *out, const uint8_t *data, size_t size);
void elf_release(elf_file *e);

/** The string at `offset` in the dynamic string table, or NULL. */
const char *elf_dynstr(const elf_file *e, uint64_t offset);
/** Number of DT_NEEDED entries; elf_needed(e, i) is the i-th name. */
size_t elf_needed_count(const elf_file *e);
const char *elf_needed(const elf_file *e, size_t i);
/** The DT_RUNPATH (or else DT_RPATH) string, or NULL. */
const char *elf_rpath(const elf_file *e);

/** Patch options. */
typedef struct elf_patch_options {
	/* new_names[i] replaces the i-th DT_NEEDED (NULL keeps it). */
	const char *const *new_names;
	size_t n_names;
	int remove_rpath; /* drop DT_RPATH and DT_RUNPATH */
	int genode;       /* refuse to exceed 10 program headers */
} elf_patch_options;

/**
 * Produce the patched file in a new malloc'd buffer (*out, *out_size).
 * Sets *changed to 0 (and *out to NULL) when nothing needs changing.
 * The result is re-parsed and checked before it is returned.
 */
int elf_patch(uint8_t **out, size_t *out_size, int *changed,
	      const elf_file *e, const elf_patch_options *opts);

#endif
