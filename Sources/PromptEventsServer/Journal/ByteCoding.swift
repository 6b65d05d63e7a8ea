/// Appends little-endian integers and length-prefixed byte strings to a buffer.
struct ByteWriter {
    /// The bytes written so far.
    var bytes: [UInt8]

    /// Creates a writer.
    ///
    /// - Parameter capacity: How many bytes to reserve.
    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func write<Integer: FixedWidthInteger>(_ value: Integer) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes a `Double` by its bit pattern, so it reads back identical.
    mutating func write(_ value: Double) {
        write(value.bitPattern)
    }

    /// Writes a 32-bit length followed by the bytes.
    mutating func writeBlock(_ block: some Collection<UInt8>) {
        write(UInt32(truncatingIfNeeded: block.count))
        bytes.append(contentsOf: block)
    }

    /// Writes a 32-bit length followed by the UTF-8 bytes.
    mutating func write(_ string: String) {
        writeBlock(string.utf8)
    }
}

/// The payload ended early or held an impossible value.
struct ByteReaderError: Error, Hashable, Sendable {
    /// What could not be read.
    var what: String
}

/// Reads what ``ByteWriter`` wrote.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    /// Creates a reader over a payload.
    ///
    /// - Parameter bytes: The payload.
    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { index == bytes.endIndex }

    mutating func readByte() throws(ByteReaderError) -> UInt8 {
        guard index < bytes.endIndex else { throw ByteReaderError(what: "byte") }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func read<Integer: FixedWidthInteger>(_: Integer.Type) throws(ByteReaderError) -> Integer {
        let size = MemoryLayout<Integer>.size
        guard bytes.endIndex - index >= size else { throw ByteReaderError(what: "\(Integer.self)") }
        var value = Integer.zero
        for offset in 0..<size {
            value |= Integer(truncatingIfNeeded: bytes[index + offset]) << (8 * offset)
        }
        index += size
        return value
    }

    mutating func readDouble() throws(ByteReaderError) -> Double {
        Double(bitPattern: try read(UInt64.self))
    }

    mutating func readBlock() throws(ByteReaderError) -> ArraySlice<UInt8> {
        let count = Int(try read(UInt32.self))
        guard bytes.endIndex - index >= count else { throw ByteReaderError(what: "block of \(count) bytes") }
        defer { index += count }
        return bytes[index..<index + count]
    }

    mutating func readString() throws(ByteReaderError) -> String {
        String(decoding: try readBlock(), as: UTF8.self)
    }
}
