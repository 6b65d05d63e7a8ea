/// A cryptographic hash function that absorbs a message incrementally and produces a fixed-size digest.
///
/// Conforming types are value types: copying a partially fed hasher forks it, and both copies can be
/// continued and finalized independently. `HMAC` relies on this to precompute its keyed states once.
///
/// ```swift
/// var hasher = SHA256()
/// hasher.update("abc".utf8)
/// let digest = hasher.finalize()  // 32 bytes
/// ```
///
/// These types are `package` so they never collide with CryptoKit or swift-crypto names in
/// client code; they are not meant as a general-purpose cryptography library.
package protocol HashFunction: Sendable {
    /// The size in bytes of the blocks the compression function consumes, 64 for SHA-1 and SHA-256.
    static var blockByteCount: Int { get }

    /// The size in bytes of the digest `finalize()` returns.
    static var digestByteCount: Int { get }

    /// Creates a hasher in the initial state, with nothing absorbed.
    init()

    /// Absorbs the given bytes.
    ///
    /// - Parameter bytes: The next bytes of the message; may be empty.
    mutating func update(_ bytes: UnsafeRawBufferPointer)

    /// Pads the message, processes the final block and writes the digest.
    ///
    /// This is the allocation-free form; `finalize()` wraps it in an array.
    ///
    /// - Parameter digest: Where to write the digest; must have room for `digestByteCount` bytes.
    consuming func finalize(into digest: UnsafeMutableRawBufferPointer)

    /// Pads the message, processes the final block and returns the digest.
    ///
    /// A default implementation is provided.
    ///
    /// - Returns: The digest, `digestByteCount` bytes long.
    consuming func finalize() -> [UInt8]
}

extension HashFunction {
    /// Absorbs the given bytes.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice`, `String.UTF8View` of a native string, …) are
    /// hashed in place; any other sequence is copied through a small stack buffer.
    ///
    /// - Parameter bytes: The next bytes of the message; may be empty.
    package mutating func update(_ bytes: some Sequence<UInt8>) {
        let absorbedContiguously: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            self.update(UnsafeRawBufferPointer(buffer))
        }
        guard absorbedContiguously == nil else { return }
        withUnsafeTemporaryAllocation(byteCount: Self.blockByteCount, alignment: 1) { staging in
            var stagedByteCount = 0
            for byte in bytes {
                staging[stagedByteCount] = byte
                stagedByteCount += 1
                if stagedByteCount == staging.count {
                    self.update(UnsafeRawBufferPointer(staging))
                    stagedByteCount = 0
                }
            }
            self.update(UnsafeRawBufferPointer(rebasing: staging[..<stagedByteCount]))
        }
    }

    /// Pads the message, processes the final block and returns the digest.
    ///
    /// - Returns: The digest, `digestByteCount` bytes long.
    package consuming func finalize() -> [UInt8] {
        let hasher = self
        return [UInt8](unsafeUninitializedCapacity: Self.digestByteCount) { digest, initializedCount in
            hasher.finalize(into: UnsafeMutableRawBufferPointer(digest))
            initializedCount = Self.digestByteCount
        }
    }

    /// Computes the digest of a complete message in one call.
    ///
    /// - Parameter bytes: The whole message.
    /// - Returns: The digest, `digestByteCount` bytes long.
    package static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = Self()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Computes the digest of a complete message in one call.
    ///
    /// - Parameter bytes: The whole message.
    /// - Returns: The digest, `digestByteCount` bytes long.
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = Self()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// The Merkle–Damgård bookkeeping SHA-1 and SHA-256 share: a 64-byte partial block, the running message
/// length, and the final padding.
///
/// The compression function is passed in as a closure; every method is `@inline(__always)`, so each hash
/// type gets a copy specialized to its own compression function with no indirect calls.
struct MessageBlockBuffer: Sendable {
    /// The block size of every hash function that uses this buffer.
    static let blockByteCount = 64

    /// The size of the big-endian message bit length that ends the padding.
    private static let lengthFieldByteCount = 8

    /// The byte that starts the padding: a single 1 bit.
    private static let paddingMarker: UInt8 = 0x80

    /// The padding spills into a second block when the message leaves too little room for the length.
    private static let maximumPaddingBlockCount = 2

    /// The number of bits in a byte; the length field counts bits.
    private static let bitsPerByte: UInt64 = 8

    /// Storage for one partial block; only the first `bufferedByteCount` bytes are meaningful.
    private var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    /// How many bytes of `block` hold message bytes not yet compressed, always less than a block.
    private var bufferedByteCount = 0

    /// The total number of message bytes absorbed so far.
    private var messageByteCount: UInt64 = 0

    /// Creates an empty buffer.
    init() {}

    /// Absorbs bytes, calling `compress` on every complete block.
    ///
    /// Whole blocks are compressed straight from `bytes` without copying; only a leftover tail shorter
    /// than a block is kept.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes of the message.
    ///   - compress: Processes `blockCount` consecutive 64-byte blocks starting at the pointer.
    @inline(__always)
    mutating func absorb(
        _ bytes: UnsafeRawBufferPointer,
        compress: (_ blocks: UnsafeRawPointer, _ blockCount: Int) -> Void
    ) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        messageByteCount &+= UInt64(truncatingIfNeeded: bytes.count)
        var offset = 0
        let blockByteCount = Self.blockByteCount
        if bufferedByteCount > 0 {
            let taken = min(blockByteCount - bufferedByteCount, bytes.count)
            withUnsafeMutableBytes(of: &block) { storage in
                guard let destination = storage.baseAddress else { return }
                (destination + bufferedByteCount).copyMemory(from: base, byteCount: taken)
            }
            bufferedByteCount += taken
            offset = taken
            guard bufferedByteCount == blockByteCount else { return }
            withUnsafeBytes(of: block) { storage in
                guard let blocks = storage.baseAddress else { return }
                compress(blocks, 1)
            }
            bufferedByteCount = 0
        }
        let wholeBlockCount = (bytes.count - offset) / blockByteCount
        if wholeBlockCount > 0 {
            compress(base + offset, wholeBlockCount)
            offset += wholeBlockCount * blockByteCount
        }
        let remaining = bytes.count - offset
        if remaining > 0 {
            withUnsafeMutableBytes(of: &block) { storage in
                guard let destination = storage.baseAddress else { return }
                destination.copyMemory(from: base + offset, byteCount: remaining)
            }
            bufferedByteCount = remaining
        }
    }

    /// Appends the padding (a 1 bit, zeros, and the 64-bit big-endian message length in bits) and
    /// compresses the one or two final blocks.
    ///
    /// - Parameter compress: Processes `blockCount` consecutive 64-byte blocks starting at the pointer.
    @inline(__always)
    func pad(compress: (_ blocks: UnsafeRawPointer, _ blockCount: Int) -> Void) {
        let bitCount = messageByteCount &* Self.bitsPerByte
        let blockByteCount = Self.blockByteCount
        let lengthOffset = blockByteCount - Self.lengthFieldByteCount
        let tailCapacity = Self.maximumPaddingBlockCount * blockByteCount
        withUnsafeTemporaryAllocation(byteCount: tailCapacity, alignment: MemoryLayout<UInt64>.alignment) { tail in
            guard let destination = tail.baseAddress else { return }
            withUnsafeBytes(of: block) { storage in
                guard let source = storage.baseAddress else { return }
                destination.copyMemory(from: source, byteCount: bufferedByteCount)
            }
            tail[bufferedByteCount] = Self.paddingMarker
            let tailByteCount = bufferedByteCount < lengthOffset ? blockByteCount : tailCapacity
            let zeroStart = bufferedByteCount + 1
            let zeroEnd = tailByteCount - Self.lengthFieldByteCount
            (destination + zeroStart).initializeMemory(as: UInt8.self, repeating: 0, count: zeroEnd - zeroStart)
            destination.storeBytes(of: bitCount.bigEndian, toByteOffset: zeroEnd, as: UInt64.self)
            compress(UnsafeRawPointer(destination), tailByteCount / blockByteCount)
        }
    }
}

/// Writes the 32-bit words of a hash state (a homogeneous tuple of `UInt32`) as big-endian bytes.
///
/// - Parameters:
///   - state: The intermediate hash value, H0 first.
///   - digest: The destination; must have room for `MemoryLayout<State>.size` bytes.
@inline(__always)
func storeBigEndian<State>(_ state: State, into digest: UnsafeMutableRawBufferPointer) {
    let wordByteCount = MemoryLayout<UInt32>.size
    withUnsafeBytes(of: state) { words in
        for offset in stride(from: 0, to: words.count, by: wordByteCount) {
            let word = words.load(fromByteOffset: offset, as: UInt32.self)
            digest.storeBytes(of: word.bigEndian, toByteOffset: offset, as: UInt32.self)
        }
    }
}

extension UInt32 {
    /// Rotates the bits left by `count` positions (a circular shift, FIPS 180-4 ROTL).
    ///
    /// - Parameter count: The number of positions, in `1..<32`.
    /// - Returns: The rotated value.
    @inline(__always)
    func rotatedLeft(by count: UInt32) -> UInt32 {
        (self &<< count) | (self &>> (32 &- count))
    }

    /// Rotates the bits right by `count` positions (a circular shift, FIPS 180-4 ROTR).
    ///
    /// - Parameter count: The number of positions, in `1..<32`.
    /// - Returns: The rotated value.
    @inline(__always)
    func rotatedRight(by count: UInt32) -> UInt32 {
        (self &>> count) | (self &<< (32 &- count))
    }
}
