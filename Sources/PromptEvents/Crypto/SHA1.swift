/// SHA-1 (FIPS 180-4 §6.1), streaming.
///
/// SHA-1 is broken for collision resistance; it is here only because webhook senders still sign with
/// HMAC-SHA1, and HMAC does not depend on collision resistance. Use `SHA256` for anything new.
///
/// ```swift
/// let digest = SHA1.hash("abc".utf8)  // a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
/// ```
package struct SHA1: HashFunction {
    /// SHA-1 consumes 64-byte blocks.
    package static let blockByteCount = MessageBlockBuffer.blockByteCount

    /// SHA-1 digests are 20 bytes (160 bits).
    package static let digestByteCount = 20

    /// The initial hash value H(0) (FIPS 180-4 §5.3.1).
    private static let initialState: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
    )

    /// The round constant K for rounds 0–19.
    private static let k0: UInt32 = 0x5A82_7999
    /// The round constant K for rounds 20–39.
    private static let k1: UInt32 = 0x6ED9_EBA1
    /// The round constant K for rounds 40–59.
    private static let k2: UInt32 = 0x8F1B_BCDC
    /// The round constant K for rounds 60–79.
    private static let k3: UInt32 = 0xCA62_C1D6

    /// The five 32-bit words of the intermediate hash value, H0 through H4.
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32)

    /// The partial block and message length.
    private var buffer = MessageBlockBuffer()

    /// Creates a hasher with nothing absorbed.
    package init() {
        state = Self.initialState
    }

    /// Absorbs the given bytes.
    ///
    /// - Parameter bytes: The next bytes of the message; may be empty.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        buffer.absorb(bytes) { blocks, blockCount in
            Self.compress(&state, blocks: blocks, blockCount: blockCount)
        }
    }

    /// Pads the message and writes the 20-byte digest.
    ///
    /// - Parameter digest: Where to write the digest; must have room for `digestByteCount` bytes.
    package consuming func finalize(into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= Self.digestByteCount, "digest buffer too small")
        var state = self.state
        buffer.pad { blocks, blockCount in
            Self.compress(&state, blocks: blocks, blockCount: blockCount)
        }
        storeBigEndian(state, into: digest)
    }

    /// Runs the compression function over `blockCount` consecutive 64-byte blocks.
    ///
    /// The 80 rounds are written out: the working variables a…e rotate roles from one round to the next
    /// instead of being shuffled, and the message schedule W is kept as a rolling window of 16 local
    /// words, `w0`…`w15`, where `wN` holds W[t] for the latest t with t mod 16 == N.
    ///
    /// - Parameters:
    ///   - state: The intermediate hash value, updated in place.
    ///   - blocks: The first byte of the first block; need not be aligned.
    ///   - blockCount: How many blocks to process.
    private static func compress(
        _ state: inout (UInt32, UInt32, UInt32, UInt32, UInt32),
        blocks: UnsafeRawPointer,
        blockCount: Int
    ) {
        var h0 = state.0
        var h1 = state.1
        var h2 = state.2
        var h3 = state.3
        var h4 = state.4
        var block = blocks
        for _ in 0..<blockCount {
            var a = h0
            var b = h1
            var c = h2
            var d = h3
            var e = h4

            var w0 = load(block, 0)
            var w1 = load(block, 1)
            var w2 = load(block, 2)
            var w3 = load(block, 3)
            var w4 = load(block, 4)
            var w5 = load(block, 5)
            var w6 = load(block, 6)
            var w7 = load(block, 7)
            var w8 = load(block, 8)
            var w9 = load(block, 9)
            var w10 = load(block, 10)
            var w11 = load(block, 11)
            var w12 = load(block, 12)
            var w13 = load(block, 13)
            var w14 = load(block, 14)
            var w15 = load(block, 15)

            // Rounds 0–19: f = Ch(b, c, d), K = k0.
            chooseRound(a, &b, c, d, &e, w0)
            chooseRound(e, &a, b, c, &d, w1)
            chooseRound(d, &e, a, b, &c, w2)
            chooseRound(c, &d, e, a, &b, w3)
            chooseRound(b, &c, d, e, &a, w4)
            chooseRound(a, &b, c, d, &e, w5)
            chooseRound(e, &a, b, c, &d, w6)
            chooseRound(d, &e, a, b, &c, w7)
            chooseRound(c, &d, e, a, &b, w8)
            chooseRound(b, &c, d, e, &a, w9)
            chooseRound(a, &b, c, d, &e, w10)
            chooseRound(e, &a, b, c, &d, w11)
            chooseRound(d, &e, a, b, &c, w12)
            chooseRound(c, &d, e, a, &b, w13)
            chooseRound(b, &c, d, e, &a, w14)
            chooseRound(a, &b, c, d, &e, w15)
            chooseRound(e, &a, b, c, &d, expand(&w0, w13, w8, w2))
            chooseRound(d, &e, a, b, &c, expand(&w1, w14, w9, w3))
            chooseRound(c, &d, e, a, &b, expand(&w2, w15, w10, w4))
            chooseRound(b, &c, d, e, &a, expand(&w3, w0, w11, w5))

            // Rounds 20–39: f = Parity(b, c, d), K = k1.
            parityRound(a, &b, c, d, &e, expand(&w4, w1, w12, w6), k1)
            parityRound(e, &a, b, c, &d, expand(&w5, w2, w13, w7), k1)
            parityRound(d, &e, a, b, &c, expand(&w6, w3, w14, w8), k1)
            parityRound(c, &d, e, a, &b, expand(&w7, w4, w15, w9), k1)
            parityRound(b, &c, d, e, &a, expand(&w8, w5, w0, w10), k1)
            parityRound(a, &b, c, d, &e, expand(&w9, w6, w1, w11), k1)
            parityRound(e, &a, b, c, &d, expand(&w10, w7, w2, w12), k1)
            parityRound(d, &e, a, b, &c, expand(&w11, w8, w3, w13), k1)
            parityRound(c, &d, e, a, &b, expand(&w12, w9, w4, w14), k1)
            parityRound(b, &c, d, e, &a, expand(&w13, w10, w5, w15), k1)
            parityRound(a, &b, c, d, &e, expand(&w14, w11, w6, w0), k1)
            parityRound(e, &a, b, c, &d, expand(&w15, w12, w7, w1), k1)
            parityRound(d, &e, a, b, &c, expand(&w0, w13, w8, w2), k1)
            parityRound(c, &d, e, a, &b, expand(&w1, w14, w9, w3), k1)
            parityRound(b, &c, d, e, &a, expand(&w2, w15, w10, w4), k1)
            parityRound(a, &b, c, d, &e, expand(&w3, w0, w11, w5), k1)
            parityRound(e, &a, b, c, &d, expand(&w4, w1, w12, w6), k1)
            parityRound(d, &e, a, b, &c, expand(&w5, w2, w13, w7), k1)
            parityRound(c, &d, e, a, &b, expand(&w6, w3, w14, w8), k1)
            parityRound(b, &c, d, e, &a, expand(&w7, w4, w15, w9), k1)

            // Rounds 40–59: f = Maj(b, c, d), K = k2.
            majorityRound(a, &b, c, d, &e, expand(&w8, w5, w0, w10))
            majorityRound(e, &a, b, c, &d, expand(&w9, w6, w1, w11))
            majorityRound(d, &e, a, b, &c, expand(&w10, w7, w2, w12))
            majorityRound(c, &d, e, a, &b, expand(&w11, w8, w3, w13))
            majorityRound(b, &c, d, e, &a, expand(&w12, w9, w4, w14))
            majorityRound(a, &b, c, d, &e, expand(&w13, w10, w5, w15))
            majorityRound(e, &a, b, c, &d, expand(&w14, w11, w6, w0))
            majorityRound(d, &e, a, b, &c, expand(&w15, w12, w7, w1))
            majorityRound(c, &d, e, a, &b, expand(&w0, w13, w8, w2))
            majorityRound(b, &c, d, e, &a, expand(&w1, w14, w9, w3))
            majorityRound(a, &b, c, d, &e, expand(&w2, w15, w10, w4))
            majorityRound(e, &a, b, c, &d, expand(&w3, w0, w11, w5))
            majorityRound(d, &e, a, b, &c, expand(&w4, w1, w12, w6))
            majorityRound(c, &d, e, a, &b, expand(&w5, w2, w13, w7))
            majorityRound(b, &c, d, e, &a, expand(&w6, w3, w14, w8))
            majorityRound(a, &b, c, d, &e, expand(&w7, w4, w15, w9))
            majorityRound(e, &a, b, c, &d, expand(&w8, w5, w0, w10))
            majorityRound(d, &e, a, b, &c, expand(&w9, w6, w1, w11))
            majorityRound(c, &d, e, a, &b, expand(&w10, w7, w2, w12))
            majorityRound(b, &c, d, e, &a, expand(&w11, w8, w3, w13))

            // Rounds 60–79: f = Parity(b, c, d), K = k3.
            parityRound(a, &b, c, d, &e, expand(&w12, w9, w4, w14), k3)
            parityRound(e, &a, b, c, &d, expand(&w13, w10, w5, w15), k3)
            parityRound(d, &e, a, b, &c, expand(&w14, w11, w6, w0), k3)
            parityRound(c, &d, e, a, &b, expand(&w15, w12, w7, w1), k3)
            parityRound(b, &c, d, e, &a, expand(&w0, w13, w8, w2), k3)
            parityRound(a, &b, c, d, &e, expand(&w1, w14, w9, w3), k3)
            parityRound(e, &a, b, c, &d, expand(&w2, w15, w10, w4), k3)
            parityRound(d, &e, a, b, &c, expand(&w3, w0, w11, w5), k3)
            parityRound(c, &d, e, a, &b, expand(&w4, w1, w12, w6), k3)
            parityRound(b, &c, d, e, &a, expand(&w5, w2, w13, w7), k3)
            parityRound(a, &b, c, d, &e, expand(&w6, w3, w14, w8), k3)
            parityRound(e, &a, b, c, &d, expand(&w7, w4, w15, w9), k3)
            parityRound(d, &e, a, b, &c, expand(&w8, w5, w0, w10), k3)
            parityRound(c, &d, e, a, &b, expand(&w9, w6, w1, w11), k3)
            parityRound(b, &c, d, e, &a, expand(&w10, w7, w2, w12), k3)
            parityRound(a, &b, c, d, &e, expand(&w11, w8, w3, w13), k3)
            parityRound(e, &a, b, c, &d, expand(&w12, w9, w4, w14), k3)
            parityRound(d, &e, a, b, &c, expand(&w13, w10, w5, w15), k3)
            parityRound(c, &d, e, a, &b, expand(&w14, w11, w6, w0), k3)
            parityRound(b, &c, d, e, &a, expand(&w15, w12, w7, w1), k3)

            h0 &+= a
            h1 &+= b
            h2 &+= c
            h3 &+= d
            h4 &+= e
            block += blockByteCount
        }
        state = (h0, h1, h2, h3, h4)
    }

    /// Reads message word `index` of a block as a big-endian 32-bit integer.
    @inline(__always)
    private static func load(_ block: UnsafeRawPointer, _ index: Int) -> UInt32 {
        UInt32(bigEndian: block.loadUnaligned(fromByteOffset: index &* MemoryLayout<UInt32>.size, as: UInt32.self))
    }

    /// Computes the next schedule word in place: W[t] = ROTL¹(W[t−3] ⊕ W[t−8] ⊕ W[t−14] ⊕ W[t−16]).
    ///
    /// - Parameters:
    ///   - word: On entry W[t−16]; on return W[t].
    ///   - minus3: W[t−3].
    ///   - minus8: W[t−8].
    ///   - minus14: W[t−14].
    /// - Returns: W[t].
    @inline(__always)
    private static func expand(_ word: inout UInt32, _ minus3: UInt32, _ minus8: UInt32, _ minus14: UInt32) -> UInt32 {
        word = (minus3 ^ minus8 ^ minus14 ^ word).rotatedLeft(by: 1)
        return word
    }

    /// One round with f = Ch(b, c, d) = (b ∧ c) ⊕ (¬b ∧ d) and K = k0.
    ///
    /// Rather than shifting a…e down one place, the caller renames them: the new `a` is written into
    /// `e` and `b` is rotated in place, so the next round is called with the arguments rotated.
    @inline(__always)
    private static func chooseRound(
        _ a: UInt32,
        _ b: inout UInt32,
        _ c: UInt32,
        _ d: UInt32,
        _ e: inout UInt32,
        _ word: UInt32
    ) {
        let choose = d ^ (b & (c ^ d))
        e = e &+ a.rotatedLeft(by: 5) &+ choose &+ k0 &+ word
        b = b.rotatedLeft(by: 30)
    }

    /// One round with f = Parity(b, c, d) = b ⊕ c ⊕ d and the given K (k1 or k3).
    @inline(__always)
    private static func parityRound(
        _ a: UInt32,
        _ b: inout UInt32,
        _ c: UInt32,
        _ d: UInt32,
        _ e: inout UInt32,
        _ word: UInt32,
        _ constant: UInt32
    ) {
        e = e &+ a.rotatedLeft(by: 5) &+ (b ^ c ^ d) &+ constant &+ word
        b = b.rotatedLeft(by: 30)
    }

    /// One round with f = Maj(b, c, d) = (b ∧ c) ⊕ (b ∧ d) ⊕ (c ∧ d) and K = k2.
    ///
    /// Maj is computed as (b ∧ c) + (d ∧ (b ⊕ c)): the two terms never share a set bit, so adding them
    /// equals or-ing them, and the additions can be reassociated with the rest of the round.
    @inline(__always)
    private static func majorityRound(
        _ a: UInt32,
        _ b: inout UInt32,
        _ c: UInt32,
        _ d: UInt32,
        _ e: inout UInt32,
        _ word: UInt32
    ) {
        e = e &+ a.rotatedLeft(by: 5) &+ (b & c) &+ (d & (b ^ c)) &+ k2 &+ word
        b = b.rotatedLeft(by: 30)
    }
}
