/// SHA-256 (FIPS 180-4 §6.2), streaming.
///
/// ```swift
/// let digest = SHA256.hash("abc".utf8)  // ba7816bf 8f01cfea … f20015ad
/// ```
package struct SHA256: HashFunction {
    /// SHA-256 consumes 64-byte blocks.
    package static let blockByteCount = MessageBlockBuffer.blockByteCount

    /// SHA-256 digests are 32 bytes (256 bits).
    package static let digestByteCount = 32

    /// The number of message words in one block, and of rounds between schedule wrap-arounds.
    private static let wordsPerBlock = 16

    /// The number of rounds per block.
    private static let roundCount = 64

    /// The initial hash value H(0) (FIPS 180-4 §5.3.3): the first 32 bits of the fractional parts of
    /// the square roots of the first eight primes.
    private static let initialState: State = (
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19
    )

    /// The 64 round constants K (FIPS 180-4 §4.2.2): the first 32 bits of the fractional parts of the
    /// cube roots of the first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4, 0xAB1C_5ED5,
        0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE, 0x9BDC_06A7, 0xC19B_F174,
        0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F, 0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA,
        0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7, 0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967,
        0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC, 0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85,
        0xA2BF_E8A1, 0xA81A_664B, 0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070,
        0x19A4_C116, 0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
        0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7, 0xC671_78F2,
    ]

    /// The eight 32-bit words of the intermediate hash value, H0 through H7.
    private typealias State = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    /// The intermediate hash value.
    private var state: State

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

    /// Pads the message and writes the 32-byte digest.
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
    /// The working variables a…h rotate roles from one round to the next instead of being shuffled,
    /// so eight consecutive rounds return them to their original names. The message schedule W is a
    /// rolling window of 16 local words, `w0`…`w15`, where `wN` holds W[t] for the latest t with
    /// t mod 16 == N. Rounds 0–15 use the message words as loaded; each later group of 16 rounds first
    /// expands the word it uses.
    ///
    /// - Parameters:
    ///   - state: The intermediate hash value, updated in place.
    ///   - blocks: The first byte of the first block; need not be aligned.
    ///   - blockCount: How many blocks to process.
    private static func compress(_ state: inout State, blocks: UnsafeRawPointer, blockCount: Int) {
        roundConstants.withUnsafeBufferPointer { constants in
            guard let k = constants.baseAddress else { return }
            var h0 = state.0
            var h1 = state.1
            var h2 = state.2
            var h3 = state.3
            var h4 = state.4
            var h5 = state.5
            var h6 = state.6
            var h7 = state.7
            var block = blocks
            for _ in 0..<blockCount {
                var a = h0
                var b = h1
                var c = h2
                var d = h3
                var e = h4
                var f = h5
                var g = h6
                var h = h7

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

                // Rounds 0–15: W[t] is the message word itself.
                round(a, b, c, &d, e, f, g, &h, k[0] &+ w0)
                round(h, a, b, &c, d, e, f, &g, k[1] &+ w1)
                round(g, h, a, &b, c, d, e, &f, k[2] &+ w2)
                round(f, g, h, &a, b, c, d, &e, k[3] &+ w3)
                round(e, f, g, &h, a, b, c, &d, k[4] &+ w4)
                round(d, e, f, &g, h, a, b, &c, k[5] &+ w5)
                round(c, d, e, &f, g, h, a, &b, k[6] &+ w6)
                round(b, c, d, &e, f, g, h, &a, k[7] &+ w7)
                round(a, b, c, &d, e, f, g, &h, k[8] &+ w8)
                round(h, a, b, &c, d, e, f, &g, k[9] &+ w9)
                round(g, h, a, &b, c, d, e, &f, k[10] &+ w10)
                round(f, g, h, &a, b, c, d, &e, k[11] &+ w11)
                round(e, f, g, &h, a, b, c, &d, k[12] &+ w12)
                round(d, e, f, &g, h, a, b, &c, k[13] &+ w13)
                round(c, d, e, &f, g, h, a, &b, k[14] &+ w14)
                round(b, c, d, &e, f, g, h, &a, k[15] &+ w15)

                // Rounds 16–63, in three groups of 16: W[t] is expanded from earlier words first.
                var groupConstants = k + wordsPerBlock
                for _ in 1..<(roundCount / wordsPerBlock) {
                    let r = groupConstants
                    round(a, b, c, &d, e, f, g, &h, r[0] &+ expand(&w0, w14, w9, w1))
                    round(h, a, b, &c, d, e, f, &g, r[1] &+ expand(&w1, w15, w10, w2))
                    round(g, h, a, &b, c, d, e, &f, r[2] &+ expand(&w2, w0, w11, w3))
                    round(f, g, h, &a, b, c, d, &e, r[3] &+ expand(&w3, w1, w12, w4))
                    round(e, f, g, &h, a, b, c, &d, r[4] &+ expand(&w4, w2, w13, w5))
                    round(d, e, f, &g, h, a, b, &c, r[5] &+ expand(&w5, w3, w14, w6))
                    round(c, d, e, &f, g, h, a, &b, r[6] &+ expand(&w6, w4, w15, w7))
                    round(b, c, d, &e, f, g, h, &a, r[7] &+ expand(&w7, w5, w0, w8))
                    round(a, b, c, &d, e, f, g, &h, r[8] &+ expand(&w8, w6, w1, w9))
                    round(h, a, b, &c, d, e, f, &g, r[9] &+ expand(&w9, w7, w2, w10))
                    round(g, h, a, &b, c, d, e, &f, r[10] &+ expand(&w10, w8, w3, w11))
                    round(f, g, h, &a, b, c, d, &e, r[11] &+ expand(&w11, w9, w4, w12))
                    round(e, f, g, &h, a, b, c, &d, r[12] &+ expand(&w12, w10, w5, w13))
                    round(d, e, f, &g, h, a, b, &c, r[13] &+ expand(&w13, w11, w6, w14))
                    round(c, d, e, &f, g, h, a, &b, r[14] &+ expand(&w14, w12, w7, w15))
                    round(b, c, d, &e, f, g, h, &a, r[15] &+ expand(&w15, w13, w8, w0))
                    groupConstants += wordsPerBlock
                }

                h0 &+= a
                h1 &+= b
                h2 &+= c
                h3 &+= d
                h4 &+= e
                h5 &+= f
                h6 &+= g
                h7 &+= h
                block += blockByteCount
            }
            state = (h0, h1, h2, h3, h4, h5, h6, h7)
        }
    }

    /// Reads message word `index` of a block as a big-endian 32-bit integer.
    @inline(__always)
    private static func load(_ block: UnsafeRawPointer, _ index: Int) -> UInt32 {
        UInt32(bigEndian: block.loadUnaligned(fromByteOffset: index &* MemoryLayout<UInt32>.size, as: UInt32.self))
    }

    /// Computes the next schedule word in place: W[t] = σ1(W[t−2]) + W[t−7] + σ0(W[t−15]) + W[t−16].
    ///
    /// - Parameters:
    ///   - word: On entry W[t−16]; on return W[t].
    ///   - minus2: W[t−2].
    ///   - minus7: W[t−7].
    ///   - minus15: W[t−15].
    /// - Returns: W[t].
    @inline(__always)
    private static func expand(_ word: inout UInt32, _ minus2: UInt32, _ minus7: UInt32, _ minus15: UInt32) -> UInt32 {
        let sigma0 = minus15.rotatedRight(by: 7) ^ minus15.rotatedRight(by: 18) ^ (minus15 &>> 3)
        let sigma1 = minus2.rotatedRight(by: 17) ^ minus2.rotatedRight(by: 19) ^ (minus2 &>> 10)
        word = sigma1 &+ minus7 &+ sigma0 &+ word
        return word
    }

    /// One round of the compression function.
    ///
    /// Rather than shifting a…h down one place, the caller renames them: the round adds T1 into `d`
    /// and writes T1 + T2 (the new `a`) into `h`, and the next round is called with the arguments
    /// rotated by one.
    ///
    /// - Parameters:
    ///   - a: Working variable a.
    ///   - b: Working variable b.
    ///   - c: Working variable c.
    ///   - d: Working variable d; on return the next round's e.
    ///   - e: Working variable e.
    ///   - f: Working variable f.
    ///   - g: Working variable g.
    ///   - h: Working variable h; on return the next round's a.
    ///   - constantPlusWord: K[t] + W[t].
    @inline(__always)
    private static func round(
        _ a: UInt32,
        _ b: UInt32,
        _ c: UInt32,
        _ d: inout UInt32,
        _ e: UInt32,
        _ f: UInt32,
        _ g: UInt32,
        _ h: inout UInt32,
        _ constantPlusWord: UInt32
    ) {
        let sum1 = e.rotatedRight(by: 6) ^ e.rotatedRight(by: 11) ^ e.rotatedRight(by: 25)
        let choose = g ^ (e & (f ^ g))
        let sum0 = a.rotatedRight(by: 2) ^ a.rotatedRight(by: 13) ^ a.rotatedRight(by: 22)
        let majority = (a & b) | (c & (a | b))
        let temporary1 = h &+ sum1 &+ choose &+ constantPlusWord
        d &+= temporary1
        h = temporary1 &+ sum0 &+ majority
    }
}
