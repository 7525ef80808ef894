import CRC32CHardware
import Foundation

/// CRC-32C (Castagnoli, the iSCSI / ext4 / LevelDB checksum): the journal's record checksum.
/// Reflected polynomial 0x82F63B78; `checksum(Data("123456789".utf8))` is 0xE3069283. The
/// processor's CRC-32C instruction where it has one (SSE 4.2, ARMv8 CRC: at stream rate the
/// journal's checksums took 12 % of the intake thread by table and 4 % by instruction,
/// docs/BENCHMARKS.md), else slicing-by-8 (eight 256-entry tables, eight bytes a step).
public enum CRC32C {
    static let hardware = crc32c_hardware_available() != 0

    /// Table k (k = 0...7) at k * 256: the CRC of a byte followed by k zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[index] = crc
        }
        for k in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(k - 1) * 256 + index]
                tables[k * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The checksum of `bytes`, continuing from `seed` (the checksum of what came before).
    public static func checksum(_ bytes: some DataProtocol, seed: UInt32 = 0) -> UInt32 {
        hardware ? hardwareChecksum(bytes, seed: seed) : tableChecksum(bytes, seed: seed)
    }

    static func hardwareChecksum(_ bytes: some DataProtocol, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        for region in bytes.regions {
            region.withUnsafeBytes { raw in
                if let base = raw.baseAddress { crc = crc32c_hardware_update(crc, base, raw.count) }
            }
        }
        return ~crc
    }

    static func tableChecksum(_ bytes: some DataProtocol, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        tables.withUnsafeBufferPointer { t in
            for region in bytes.regions {
                region.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    var index = 0
                    let count = raw.count
                    while index + 8 <= count {
                        let low = crc ^ UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt32.self))
                        let high = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                        crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                            ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                            ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                            ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                        index += 8
                    }
                    while index < count {
                        crc = t[Int((crc ^ UInt32(raw[index])) & 0xFF)] ^ (crc >> 8)
                        index += 1
                    }
                }
            }
        }
        return ~crc
    }
}
