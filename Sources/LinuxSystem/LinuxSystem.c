#define _GNU_SOURCE
#include "LinuxSystem.h"
#include <errno.h>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int linux_reserve_file_space(int descriptor, int64_t offset, int64_t length) {
#if defined(__linux__)
    return fallocate(descriptor, FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : errno;
#else
    (void)descriptor; (void)offset; (void)length;
    return EOPNOTSUPP;
#endif
}

void linux_keep_freed_memory(int largest, int kept) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, largest);
    mallopt(M_TRIM_THRESHOLD, kept);
#else
    (void)largest; (void)kept;
#endif
}
