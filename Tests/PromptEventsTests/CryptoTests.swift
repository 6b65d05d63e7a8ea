import Testing

@testable import PromptEvents

/// A message with its SHA-1 and SHA-256 digests, as lower-case hex.
struct HashDigestExample: Sendable, CustomTestStringConvertible {
    /// What the example is, shown in test output.
    let name: String
    /// The message.
    let message: [UInt8]
    /// The expected SHA-1 digest.
    let sha1: String
    /// The expected SHA-256 digest.
    let sha256: String

    var testDescription: String { name }
}

/// The FIPS 180 example messages (NIST "Examples with Intermediate Values").
private let fipsExamples: [HashDigestExample] = [
    HashDigestExample(
        name: "abc",
        message: Array("abc".utf8),
        sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
        sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    ),
    HashDigestExample(
        name: "448-bit message",
        message: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
        sha1: "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
        sha256: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
    HashDigestExample(
        name: "896-bit message",
        message: Array(
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8
        ),
        sha1: "a49b2446a02c645bf419f995b67091253a04a259",
        sha256: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    ),
    HashDigestExample(
        name: "one million a",
        message: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
        sha1: "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
        sha256: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    ),
]

/// SHA-1 digests of the bytes 0, 1, 2, … (each mod 256) for lengths around the 64-byte block and the 56-byte
/// padding limit, computed with Python: `hashlib.sha1(bytes(i & 0xff for i in range(n))).hexdigest()`.
private let sha1BlockBoundaryDigests: [(length: Int, digest: String)] = [
    (0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    (1, "5ba93c9db0cff93f52b521d7420e43f6eda2784f"),
    (55, "8ae2d46729cfe68ff927af5eec9c7d1b66d65ac2"),
    (56, "636e2ec698dac903498e648bd2f3af641d3c88cb"),
    (63, "6d942da0c4392b123528f2905c713a3ce28364bd"),
    (64, "c6138d514ffa2135bfce0ed0b8fac65669917ec7"),
    (65, "69bd728ad6e13cd76ff19751fde427b00e395746"),
    (119, "41c89d06001bab4ab78736b44efe7ce18ce6ae08"),
    (120, "d3dbd653bd8597b7475321b60a36891278e6a04a"),
    (127, "89d7312a903f65cd2b3e34a975e55dbea9033353"),
    (128, "e6434bc401f98603d7eda504790c98c67385d535"),
]

/// SHA-256 digests of the bytes 0, 1, 2, … (each mod 256) for lengths around the 64-byte block and the 56-byte
/// padding limit, computed with Python: `hashlib.sha256(bytes(i & 0xff for i in range(n))).hexdigest()`.
private let sha256BlockBoundaryDigests: [(length: Int, digest: String)] = [
    (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
    (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
    (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
    (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
    (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
    (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
    (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
    (127, "92ca0fa6651ee2f97b884b7246a562fa71250fedefe5ebf270d31c546bfea976"),
    (128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5"),
]

/// Chunk sizes for feeding a message piecemeal: 1, primes, and sizes just around one and two blocks.
private let chunkSizes = [1, 3, 7, 13, 55, 63, 64, 65, 127, 128, 129, 1_000]

/// The bytes 0, 1, 2, … wrapping at 256.
private func countingBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}

/// Feeds `message` to a fresh `H` in pieces of `chunkSize` bytes and returns the digest.
private func digestInChunks<H: HashFunction>(_: H.Type, _ message: [UInt8], chunkSize: Int) -> [UInt8] {
    var hasher = H()
    var start = 0
    while start < message.count {
        let end = min(start + chunkSize, message.count)
        hasher.update(message[start..<end])
        start = end
    }
    return hasher.finalize()
}

@Suite struct SHA1Tests {
    @Test(arguments: fipsExamples)
    func digestMatchesFIPSExample(_ example: HashDigestExample) {
        #expect(Hex.encode(SHA1.hash(example.message)) == example.sha1)
    }

    @Test(arguments: sha1BlockBoundaryDigests)
    func digestMatchesHashlibAtBlockBoundaries(_ length: Int, _ digest: String) {
        #expect(Hex.encode(SHA1.hash(countingBytes(length))) == digest)
    }

    @Test(arguments: chunkSizes)
    func streamingInChunksEqualsOneShot(chunkSize: Int) {
        let message = countingBytes(1_000)
        #expect(digestInChunks(SHA1.self, message, chunkSize: chunkSize) == SHA1.hash(message))
    }

    @Test func declaresSizes() {
        #expect(SHA1.blockByteCount == 64)
        #expect(SHA1.digestByteCount == 20)
        #expect(SHA1.hash([]).count == SHA1.digestByteCount)
    }
}

@Suite struct SHA256Tests {
    @Test(arguments: fipsExamples)
    func digestMatchesFIPSExample(_ example: HashDigestExample) {
        #expect(Hex.encode(SHA256.hash(example.message)) == example.sha256)
    }

    @Test(arguments: sha256BlockBoundaryDigests)
    func digestMatchesHashlibAtBlockBoundaries(_ length: Int, _ digest: String) {
        #expect(Hex.encode(SHA256.hash(countingBytes(length))) == digest)
    }

    @Test(arguments: chunkSizes)
    func streamingInChunksEqualsOneShot(chunkSize: Int) {
        let message = countingBytes(1_000)
        #expect(digestInChunks(SHA256.self, message, chunkSize: chunkSize) == SHA256.hash(message))
    }

    @Test func declaresSizes() {
        #expect(SHA256.blockByteCount == 64)
        #expect(SHA256.digestByteCount == 32)
        #expect(SHA256.hash([]).count == SHA256.digestByteCount)
    }
}

@Suite struct HashFunctionTests {
    @Test func millionAInThousandByteUpdatesMatchesFIPS() {
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000)
        var sha1 = SHA1()
        var sha256 = SHA256()
        for _ in 0..<1_000 {
            sha1.update(chunk)
            sha256.update(chunk)
        }
        #expect(Hex.encode(sha1.finalize()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        #expect(Hex.encode(sha256.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test(arguments: [0, 1, 63, 64, 65, 200])
    func nonContiguousSequenceHashesLikeArray(length: Int) {
        let lazyBytes = (0..<length).lazy.map { UInt8(truncatingIfNeeded: $0) }
        #expect(SHA1.hash(lazyBytes) == SHA1.hash(countingBytes(length)))
        #expect(SHA256.hash(lazyBytes) == SHA256.hash(countingBytes(length)))
    }

    @Test func rawBufferOneShotEqualsCollectionOneShot() {
        let message = countingBytes(300)
        message.withUnsafeBytes { raw in
            #expect(SHA1.hash(raw) == SHA1.hash(message))
            #expect(SHA256.hash(raw) == SHA256.hash(message))
        }
    }

    @Test func stringUTF8ViewHashesItsBytes() {
        #expect(Hex.encode(SHA1.hash("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func emptyUpdatesChangeNothing() {
        var hasher = SHA256()
        hasher.update([UInt8]())
        hasher.update("ab".utf8)
        hasher.update([UInt8]())
        hasher.update("c".utf8)
        #expect(hasher.finalize() == SHA256.hash("abc".utf8))
    }

    @Test func finalizeIntoWritesOnlyTheDigest() {
        let sentinel: UInt8 = 0xA5
        var buffer = [UInt8](repeating: sentinel, count: SHA256.digestByteCount + 4)
        var hasher = SHA256()
        hasher.update("abc".utf8)
        buffer.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        #expect(Array(buffer.prefix(SHA256.digestByteCount)) == SHA256.hash("abc".utf8))
        #expect(buffer.suffix(4).allSatisfy { $0 == sentinel })
    }

    @Test func copyingAPartialHasherForksIt() {
        var prefix = SHA1()
        prefix.update("ab".utf8)
        var withC = prefix
        var withD = prefix
        withC.update("c".utf8)
        withD.update("d".utf8)
        #expect(withC.finalize() == SHA1.hash("abc".utf8))
        #expect(withD.finalize() == SHA1.hash("abd".utf8))
    }
}

@Suite struct ConstantTimeEqualsTests {
    /// (lhs, rhs, expected) cases.
    static let cases: [([UInt8], [UInt8], Bool)] = [
        ([], [], true),
        ([0x00], [0x00], true),
        ([0x01], [0x02], false),
        ([0x01, 0x02], [0x01], false),
        ([], [0x00], false),
        (countingBytes(32), countingBytes(32), true),
        (countingBytes(32), countingBytes(31) + [0xFF], false),
        (countingBytes(32), [0xFF] + countingBytes(32).dropFirst(), false),
        ([0x80] + countingBytes(31).dropFirst(), [0x00] + countingBytes(31).dropFirst(), false),
    ]

    @Test(arguments: cases)
    func comparesLengthsAndEveryByte(_ lhs: [UInt8], _ rhs: [UInt8], _ expected: Bool) {
        #expect(constantTimeEquals(lhs, rhs) == expected)
        #expect(constantTimeEquals(rhs, lhs) == expected)
    }

    @Test func acceptsMixedCollectionTypes() {
        let bytes = Array("signature".utf8)
        #expect(constantTimeEquals(bytes, "signature".utf8))
        #expect(constantTimeEquals(bytes[...], "signature".utf8))
        #expect(!constantTimeEquals(bytes.dropLast(), "signature".utf8))
    }
}

@Suite struct HexTests {
    @Test(arguments: [
        ([UInt8](), "", ""),
        ([0x00], "00", "00"),
        ([0x0F, 0xA0], "0fa0", "0FA0"),
        ([0xDE, 0xAD, 0xBE, 0xEF], "deadbeef", "DEADBEEF"),
        ([0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF], "0123456789abcdef", "0123456789ABCDEF"),
    ])
    func encodesInEitherCase(_ bytes: [UInt8], _ lower: String, _ upper: String) {
        #expect(Hex.encode(bytes) == lower)
        #expect(Hex.encode(bytes, uppercase: true) == upper)
        #expect(Hex.decode(lower) == bytes)
        #expect(Hex.decode(upper) == bytes)
    }

    @Test func decodesMixedCaseAndSubstrings() {
        #expect(Hex.decode("DeAdBeEf") == [0xDE, 0xAD, 0xBE, 0xEF])
        let header = "sha256=00ff"
        #expect(Hex.decode(header.dropFirst("sha256=".count)) == [0x00, 0xFF])
    }

    @Test func roundTripsEveryByteValue() {
        let bytes = countingBytes(256)
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
        #expect(Hex.decode(Hex.encode(bytes, uppercase: true)) == bytes)
    }

    @Test(arguments: [
        "0", "abc", "zz", "0g", "g0", "0x00", " 00", "00 ", "0 0", "00\n", "-1", "é0", "\u{FF10}\u{FF10}",
    ])
    func rejectsOddLengthsAndNonDigits(_ text: String) {
        #expect(Hex.decode(text) == nil)
    }
}
