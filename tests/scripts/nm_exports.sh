#!/usr/bin/env bash
# libkmem.so exports the malloc family, mmap/munmap/mremap, sigaction and
# signal (preload/signal.c: handlers wait for kmem's locks) and kmem_*
# only: a preloaded library must never steal another symbol from a program.
. "$(dirname "$0")/lib/common.sh"
[ -f "$KMEM_LIB" ] || fail "$KMEM_LIB missing (make lib)"
need_cmd nm

allowed='^(malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|free_sized|free_aligned_sized|malloc_trim|mallinfo|mallinfo2|malloc_stats|mallopt|malloc_info|__libc_malloc|__libc_calloc|__libc_realloc|__libc_free|__libc_memalign|__libc_valloc|__libc_pvalloc|__posix_memalign|mmap|mmap64|munmap|mremap|sigaction|signal|bsd_signal|kmem_[a-z0-9_]+|_init|_fini)$'
required='malloc free calloc realloc reallocarray posix_memalign aligned_alloc
memalign valloc pvalloc malloc_usable_size free_sized free_aligned_sized
malloc_trim mallinfo mallinfo2 malloc_stats mallopt malloc_info __libc_malloc
__libc_calloc __libc_realloc __libc_free __libc_memalign __libc_valloc
__libc_pvalloc __posix_memalign mmap mmap64 munmap mremap sigaction signal
kmem_stats_print
kmem_trim'

# (AddressSanitizer adds an __odr_asan.NAME indicator beside each exported
# global, kmem_pcpu_fast here: the sanitizer's, not ours.)
syms=$(nm -D --defined-only "$KMEM_LIB" | awk '$2 != "A" {print $3}' | sed 's/@.*//' |
	grep -v '^__odr_asan\.kmem_' | sort -u)
[ -n "$syms" ] || fail "nm -D found no symbols in $KMEM_LIB"
bad=$(echo "$syms" | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
	echo "symbols that must not be exported:"
	echo "$bad" | sed 's/^/  /'
	fail "libkmem.so exports $(echo "$bad" | wc -l) symbol(s) outside the malloc family and kmem_*"
fi
for s in $required; do
	echo "$syms" | grep -qx "$s" || fail "$s is not exported"
done
# The kernel spellings are inline wrappers, never symbols.
for s in kmalloc kfree vmalloc alloc_pages virt_to_page kmem_cache_alloc_bulk; do
	if echo "$syms" | grep -qx "$s"; then fail "$s exported"; fi
done
note "$(echo "$syms" | wc -l) exported symbols, all allowed"
