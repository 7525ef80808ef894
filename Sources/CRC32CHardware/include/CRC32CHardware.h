// CRC-32C with the processor's own instruction (SSE 4.2 on x86-64, the CRC extension on ARMv8),
// for the journal's record checksums at stream rate; MagpieWire falls back to its table when the
// processor has none.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// 1 when the instruction is there (checked once, at run time), 0 otherwise.
int crc32c_hardware_available(void);
/// Continues the raw (not inverted) CRC state over n bytes; call only when available.
uint32_t crc32c_hardware_update(uint32_t state, const void *bytes, size_t n);
