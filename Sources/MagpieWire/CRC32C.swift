import Foundation

/// CRC-32C (Castagnoli, the iSCSI / ext4 / LevelDB checksum), table-driven: the journal's
/// record checksum. Reflected polynomial 0x82F63B78; `checksum(Data("123456789".utf8))` is 0xE3069283.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The checksum of `bytes`, continuing from `seed` (the checksum of what came before).
    public static func checksum(_ bytes: some DataProtocol, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        table.withUnsafeBufferPointer { table in
            for region in bytes.regions {
                region.withUnsafeBytes { raw in
                    for byte in raw { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
                }
            }
        }
        return ~crc
    }
}
