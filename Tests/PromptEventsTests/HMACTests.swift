import Foundation
import Testing

@testable import PromptEvents

/// One published HMAC test case.
struct HMACExample: Sendable, CustomTestStringConvertible {
    /// The RFC and case number, shown in test output.
    let name: String
    /// The key.
    let key: [UInt8]
    /// The message.
    let message: [UInt8]
    /// The expected code as lower-case hex; shorter than the full code when the RFC truncates it.
    let expected: String

    var testDescription: String { name }
}

/// RFC 2202 §3, all seven HMAC-SHA1 test cases.
private let rfc2202Examples: [HMACExample] = [
    HMACExample(
        name: "RFC 2202 case 1",
        key: [UInt8](repeating: 0x0B, count: 20),
        message: Array("Hi There".utf8),
        expected: "b617318655057264e28bc0b6fb378c8ef146be00"
    ),
    HMACExample(
        name: "RFC 2202 case 2",
        key: Array("Jefe".utf8),
        message: Array("what do ya want for nothing?".utf8),
        expected: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    ),
    HMACExample(
        name: "RFC 2202 case 3",
        key: [UInt8](repeating: 0xAA, count: 20),
        message: [UInt8](repeating: 0xDD, count: 50),
        expected: "125d7342b9ac11cd91a39af48aa17b4f63f175d3"
    ),
    HMACExample(
        name: "RFC 2202 case 4",
        key: Array(0x01...0x19),
        message: [UInt8](repeating: 0xCD, count: 50),
        expected: "4c9007f4026250c6bc8414f9bf50c86c2d7235da"
    ),
    HMACExample(
        name: "RFC 2202 case 5",
        key: [UInt8](repeating: 0x0C, count: 20),
        message: Array("Test With Truncation".utf8),
        expected: "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"
    ),
    HMACExample(
        name: "RFC 2202 case 6",
        key: [UInt8](repeating: 0xAA, count: 80),
        message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
        expected: "aa4ae5e15272d00e95705637ce8a3b55ed402112"
    ),
    HMACExample(
        name: "RFC 2202 case 7",
        key: [UInt8](repeating: 0xAA, count: 80),
        message: Array("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".utf8),
        expected: "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"
    ),
]

/// RFC 4231 §4, all seven HMAC-SHA256 test cases; case 5 publishes only the first 128 bits.
private let rfc4231Examples: [HMACExample] = [
    HMACExample(
        name: "RFC 4231 case 1",
        key: [UInt8](repeating: 0x0B, count: 20),
        message: Array("Hi There".utf8),
        expected: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    ),
    HMACExample(
        name: "RFC 4231 case 2",
        key: Array("Jefe".utf8),
        message: Array("what do ya want for nothing?".utf8),
        expected: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    ),
    HMACExample(
        name: "RFC 4231 case 3",
        key: [UInt8](repeating: 0xAA, count: 20),
        message: [UInt8](repeating: 0xDD, count: 50),
        expected: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
    ),
    HMACExample(
        name: "RFC 4231 case 4",
        key: Array(0x01...0x19),
        message: [UInt8](repeating: 0xCD, count: 50),
        expected: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
    ),
    HMACExample(
        name: "RFC 4231 case 5 (truncated to 128 bits)",
        key: [UInt8](repeating: 0x0C, count: 20),
        message: Array("Test With Truncation".utf8),
        expected: "a3b6167473100ee06e0c796c2955552b"
    ),
    HMACExample(
        name: "RFC 4231 case 6",
        key: [UInt8](repeating: 0xAA, count: 131),
        message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
        expected: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    ),
    HMACExample(
        name: "RFC 4231 case 7",
        key: [UInt8](repeating: 0xAA, count: 131),
        message: Array(
            ("This is a test using a larger than block-size key and a larger than block-size data. "
                + "The key needs to be hashed before being used by the HMAC algorithm.").utf8
        ),
        expected: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
    ),
]

/// Checks one published case: the full code, or its published prefix when the RFC truncates it.
private func checkPublishedExample<H: HashFunction>(_: H.Type, _ example: HMACExample) throws {
    let expected = try #require(Hex.decode(example.expected))
    let code = HMAC<H>(key: example.key).authenticationCode(for: example.message)
    #expect(code.count == H.digestByteCount)
    #expect(Array(code.prefix(expected.count)) == expected)
}

/// The bytes 0, 1, 2, … wrapping at 256.
private func countingBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}

@Suite struct HMACTests {
    @Test(arguments: rfc2202Examples)
    func sha1MatchesRFC2202(_ example: HMACExample) throws {
        try checkPublishedExample(SHA1.self, example)
    }

    @Test(arguments: rfc4231Examples)
    func sha256MatchesRFC4231(_ example: HMACExample) throws {
        try checkPublishedExample(SHA256.self, example)
    }

    @Test(arguments: [1, 7, 63, 64, 65, 500])
    func streamingInChunksEqualsOneShot(chunkSize: Int) {
        let hmac = HMAC<SHA256>(key: Array("secret".utf8))
        let message = countingBytes(1_536)
        var stream = hmac.makeStream()
        var start = 0
        while start < message.count {
            let end = min(start + chunkSize, message.count)
            stream.update(message[start..<end])
            start = end
        }
        #expect(stream.finalize() == hmac.authenticationCode(for: message))
    }

    @Test func rawBufferVariantEqualsCollectionVariant() {
        let hmac = HMAC<SHA1>(key: Array("secret".utf8))
        let message = countingBytes(1_536)
        message.withUnsafeBytes { raw in
            #expect(hmac.authenticationCode(for: raw) == hmac.authenticationCode(for: message))
        }
    }

    @Test func oneKeyedValueServesManyMessages() {
        let hmac = HMAC<SHA1>(key: Array("Jefe".utf8))
        let first = hmac.authenticationCode(for: Array("what do ya want for nothing?".utf8))
        _ = hmac.authenticationCode(for: countingBytes(100))
        let again = hmac.authenticationCode(for: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(first) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        #expect(again == first)
    }

    @Test(arguments: [65, 100, 131])
    func keyLongerThanABlockActsLikeItsHash(keyLength: Int) {
        let key = countingBytes(keyLength)
        let message = Array("payload".utf8)
        #expect(
            HMAC<SHA1>(key: key).authenticationCode(for: message)
                == HMAC<SHA1>(key: SHA1.hash(key)).authenticationCode(for: message)
        )
        #expect(
            HMAC<SHA256>(key: key).authenticationCode(for: message)
                == HMAC<SHA256>(key: SHA256.hash(key)).authenticationCode(for: message)
        )
    }

    @Test func keyOfExactlyOneBlockIsNotHashed() {
        let key = countingBytes(64)
        let message = Array("payload".utf8)
        #expect(
            HMAC<SHA256>(key: key).authenticationCode(for: message)
                != HMAC<SHA256>(key: SHA256.hash(key)).authenticationCode(for: message)
        )
    }

    @Test func shortKeyIsZeroPadded() {
        let message = Array("payload".utf8)
        let key = Array("key".utf8)
        #expect(
            HMAC<SHA1>(key: key).authenticationCode(for: message)
                == HMAC<SHA1>(key: key + [0, 0]).authenticationCode(for: message)
        )
    }

    @Test func validatesOnlyTheExactCode() throws {
        let hmac = HMAC<SHA256>(key: Array("Jefe".utf8))
        let message = Array("what do ya want for nothing?".utf8)
        let code = hmac.authenticationCode(for: message)
        var flipped = code
        flipped[flipped.count - 1] ^= 0x01
        #expect(hmac.isValidAuthenticationCode(code, for: message))
        #expect(!hmac.isValidAuthenticationCode(flipped, for: message))
        #expect(!hmac.isValidAuthenticationCode(code.prefix(16), for: message))
        #expect(!hmac.isValidAuthenticationCode([UInt8](), for: message))
        #expect(!hmac.isValidAuthenticationCode(code, for: message + [0]))
    }
}

/// One line of `Fixtures/hmac-vectors.tsv`, hex columns decoded.
struct HMACReferenceVector {
    /// The 1-based line number in the file, for failure messages.
    let line: Int
    /// The key.
    let key: [UInt8]
    /// The message.
    let message: [UInt8]
    /// HMAC-SHA1 of the message under the key.
    let hmacSHA1: [UInt8]
    /// HMAC-SHA256 of the message under the key.
    let hmacSHA256: [UInt8]
    /// SHA-1 of the message.
    let sha1: [UInt8]
    /// SHA-256 of the message.
    let sha256: [UInt8]
}

@Suite struct HMACHMACReferenceVectorTests {
    /// The number of columns on each line: key, message, then four digests.
    private static let columnCount = 6

    /// The file has at least this many vectors; fewer means it was truncated.
    private static let minimumVectorCount = 1_000

    /// Loads and decodes `Fixtures/hmac-vectors.tsv`, generated by `scripts/generate-hmac-vectors.py`.
    private static func loadVectors() throws -> [HMACReferenceVector] {
        let url = try #require(
            Bundle.module.url(forResource: "hmac-vectors", withExtension: "tsv", subdirectory: "Fixtures")
        )
        let text = try String(contentsOf: url, encoding: .utf8)
        var vectors: [HMACReferenceVector] = []
        var sawHeader = false
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            if !sawHeader {
                sawHeader = true
                continue
            }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(columns.count == columnCount, "line \(index + 1) has \(columns.count) columns")
            let decoded = try columns.map { column in
                try #require(Hex.decode(column), "line \(index + 1): not hex")
            }
            vectors.append(
                HMACReferenceVector(
                    line: index + 1,
                    key: decoded[0],
                    message: decoded[1],
                    hmacSHA1: decoded[2],
                    hmacSHA256: decoded[3],
                    sha1: decoded[4],
                    sha256: decoded[5]
                )
            )
        }
        return vectors
    }

    @Test func everyVectorMatchesPythonReference() throws {
        let vectors = try Self.loadVectors()
        #expect(vectors.count >= Self.minimumVectorCount)
        #expect(vectors.contains { $0.key.count > SHA256.blockByteCount })
        #expect(vectors.contains { $0.key.isEmpty })
        var mismatchCount = 0
        for vector in vectors {
            let matches =
                HMAC<SHA1>(key: vector.key).authenticationCode(for: vector.message) == vector.hmacSHA1
                && HMAC<SHA256>(key: vector.key).authenticationCode(for: vector.message) == vector.hmacSHA256
                && SHA1.hash(vector.message) == vector.sha1
                && SHA256.hash(vector.message) == vector.sha256
            if !matches {
                mismatchCount += 1
                Issue.record("line \(vector.line): key \(vector.key.count) B, message \(vector.message.count) B")
            }
        }
        #expect(mismatchCount == 0)
    }
}
