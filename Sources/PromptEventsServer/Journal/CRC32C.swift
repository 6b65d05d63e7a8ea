/// CRC-32C (Castagnoli), the checksum that frames every journal record.
///
/// The polynomial is 0x1EDC6F41 (reflected: 0x82F63B78), with an initial value of all ones and a
/// final complement, as in iSCSI, ext4 and LevelDB. The software implementation processes eight
/// bytes per step ("slicing-by-8") using eight 256-entry tables built once.
///
/// ```swift
/// CRC32C.checksum(Array("123456789".utf8))  // 0xE3069283
/// ```
package enum CRC32C {
    /// The reflected Castagnoli polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// Eight tables of 256 entries each, flattened: table `k` starts at `k * 256`.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) == 1 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[byte] = crc
        }
        for byte in 0..<256 {
            var crc = tables[byte]
            for table in 1..<8 {
                crc = tables[Int(crc & 0xFF)] ^ (crc >> 8)
                tables[table * 256 + byte] = crc
            }
        }
        return tables
    }()

    /// Computes the checksum of `bytes`.
    ///
    /// - Parameter bytes: The bytes to checksum.
    /// - Returns: The CRC-32C of the bytes.
    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ update(start, UnsafeRawBufferPointer($0)) }) {
            return finish(crc)
        }
        return Array(bytes).withUnsafeBytes { finish(update(start, $0)) }
    }

    /// Computes the checksum of the bytes in a raw buffer.
    ///
    /// - Parameter buffer: The bytes to checksum.
    /// - Returns: The CRC-32C of the bytes.
    package static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        finish(update(start, buffer))
    }

    /// The running value before any byte has been processed.
    package static let start: UInt32 = 0xFFFF_FFFF

    /// Turns a running value into the checksum.
    ///
    /// - Parameter crc: The running value.
    /// - Returns: The final checksum.
    package static func finish(_ crc: UInt32) -> UInt32 {
        ~crc
    }

    /// Feeds more bytes into a running value.
    ///
    /// Start from ``start`` and pass the result to ``finish(_:)`` when all bytes are in.
    ///
    /// - Parameters:
    ///   - crc: The running value.
    ///   - buffer: The next bytes.
    /// - Returns: The updated running value.
    package static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = crc
        var index = 0
        let count = buffer.count
        tables.withUnsafeBufferPointer { table in
            while count - index >= 8 {
                let low = buffer.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ crc
                let high = buffer.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                crc =
                    table[7 * 256 + Int(low & 0xFF)]
                    ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)]
                    ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)]
                    ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = table[Int((crc ^ UInt32(buffer[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        return crc
    }
}
