// Appending 3D frames (646 kB each, 600 of them) to a new file with one write each, as the
// journal does: with nothing reserved (ext4's delayed allocation reserves block by block inside
// each write) against the journal's reservation (fallocate FALLOC_FL_KEEP_SIZE 32 MiB ahead,
// Sources/LinuxSystem), alternating, five rounds each; microseconds a write. The file goes in
// the directory given (default: the current one), so it measures that file system.
//   gcc -O2 -o /tmp/bench_journal_write scripts/bench_journal_write.c && /tmp/bench_journal_write /tmp
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

static double round_us(const char *path, int reserve) {
    const size_t frame = 646144; const int frames = 600; const off_t ahead = 32 << 20;
    static char *buffer; if (!buffer) { buffer = malloc(frame); memset(buffer, 1, frame); }
    unlink(path);
    int descriptor = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
    if (descriptor < 0) { perror(path); exit(1); }
    off_t written = 0, reserved = 0;
    double start = now();
    for (int i = 0; i < frames; i++) {
        if (reserve && written + (off_t)frame > reserved && fallocate(descriptor, FALLOC_FL_KEEP_SIZE, written, ahead) == 0) reserved = written + ahead;
        if (write(descriptor, buffer, frame) != (ssize_t)frame) { perror("write"); exit(1); }
        written += frame;
    }
    double us = (now() - start) * 1e6 / frames;
    close(descriptor); unlink(path);
    return us;
}

int main(int argc, char **argv) {
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-journal-write-%d", argc > 1 ? argv[1] : ".", getpid());
    for (int round = 1; round <= 5; round++) {
        double plain = round_us(path, 0), reserved = round_us(path, 1);
        printf("round %d: %.0f us a write without reservation, %.0f with (%.2f x)\n", round, plain, reserved, plain / reserved);
        sync();
    }
    return 0;
}
