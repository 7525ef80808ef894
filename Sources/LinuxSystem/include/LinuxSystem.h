// Two system settings Swift's Glibc module does not import: Linux `fallocate` with
// FALLOC_FL_KEEP_SIZE, and glibc's `mallopt`.
#pragma once
#include <stdint.h>

/// Reserves blocks for [offset, offset + length) without changing the file's size: 0 on success,
/// else the errno (EOPNOTSUPP where the file system cannot, ENOSPC when the disk is full).
int linux_reserve_file_space(int descriptor, int64_t offset, int64_t length);

/// Keeps blocks up to `largest` bytes, once freed, for the process to reuse (glibc's heap
/// instead of a fresh mmap each), and returns free heap to the kernel only beyond `kept` bytes.
/// Does nothing where the C library is not glibc.
void linux_keep_freed_memory(int largest, int kept);
