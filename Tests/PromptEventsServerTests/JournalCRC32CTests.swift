import Testing

@testable import PromptEventsServer

@Suite struct JournalCRC32CTests {
    static let vectors: [(input: [UInt8], checksum: UInt32)] = [
        (Array("123456789".utf8), 0xE306_9283),
        ([], 0x0000_0000),
        (Array(repeating: 0, count: 32), 0x8A91_36AA),
        (Array(repeating: 0xFF, count: 32), 0x62A8_AB43),
        (Array(0..<32), 0x46DD_794E),
        (Array((0..<32).reversed()), 0x113F_DB5C),
    ]

    @Test(arguments: vectors.indices)
    func matchesPublishedCheckValues(index: Int) {
        let vector = Self.vectors[index]
        #expect(CRC32C.checksum(vector.input) == vector.checksum)
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000])
    func slicingByEightMatchesBytewiseComputation(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        #expect(CRC32C.checksum(bytes) == ~crc)
    }

    @Test func incrementalUpdateEqualsOneShot() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        var crc = CRC32C.start
        for chunk in stride(from: 0, to: bytes.count, by: 5) {
            crc = bytes[chunk..<min(chunk + 5, bytes.count)].withUnsafeBytes { CRC32C.update(crc, $0) }
        }
        #expect(CRC32C.finish(crc) == CRC32C.checksum(bytes))
    }
}
