/*
 * elf_io.h - endian-aware field access shared by elf_read.c and
 * elf_patch.c. Callers check bounds before calling these.
 */
#ifndef ERISPATCH_ELF_IO_H
#define ERISPATCH_ELF_IO_H

#include "elf.h"

uint64_t elf_rd(const elf_file *e, const uint8_t *p, unsigned width);
void elf_wr(const elf_file *e, uint8_t *p, unsigned width, uint64_t v);
/* Width of an address/offset field: 4 or 8. */
unsigned elf_word(const elf_file *e);

void elf_read_phdr(const elf_file *e, const uint8_t *p, elf_phdr *ph);
void elf_write_phdr(const elf_file *e, uint8_t *p, const elf_phdr *ph);
void elf_write_shdr(const elf_file *e, uint8_t *p, const elf_shdr *sh);
/* Size in bytes of one dynamic entry. */
size_t elf_dyn_size(const elf_file *e);
void elf_write_dyn(const elf_file *e, uint8_t *p, const elf_dyn *d);

/* File offset of `size` bytes at `vaddr`, within one LOAD's file image;
 * -1 if no LOAD holds them. */
int elf_vaddr_to_offset(const elf_file *e, uint64_t vaddr, uint64_t size,
			uint64_t *offset);

int elf_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
