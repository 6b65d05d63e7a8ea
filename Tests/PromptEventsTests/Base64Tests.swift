import Testing

@testable import PromptEvents

@Suite struct Base64Tests {
    /// RFC 4648 §10 test vectors.
    @Test(arguments: [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func matchesRFC4648Vectors(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(plain.utf8) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test(arguments: [
        ("Zg", "f"),
        ("Zm8", "fo"),
        ("Zm9vYg", "foob"),
        ("Zm9vYmE", "fooba"),
    ])
    func decodesWithoutPadding(_ encoded: String, _ plain: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func decodesTheURLSafeAlphabet() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64.encode(bytes) == "+/+/")
        #expect(Base64.decode("+/+/") == bytes)
        #expect(Base64.decode("-_-_") == bytes)
        #expect(Base64.decode("-_8=") == [0xFB, 0xFF])
        #expect(Base64.decode("-_8") == [0xFB, 0xFF])
    }

    @Test func decodesSubstrings() {
        let header = "v1,Zm9vYmFy"
        #expect(Base64.decode(header.dropFirst("v1,".count)) == Array("foobar".utf8))
    }

    @Test(arguments: 0..<70)
    func roundTripsEveryLength(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
        let encoded = Base64.encode(bytes)
        #expect(encoded.utf8.count == (length + 2) / 3 * 4)
        #expect(Base64.decode(encoded) == bytes)
        let urlSafeUnpadded = String(
            encoded.filter { $0 != "=" }.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }
        )
        #expect(Base64.decode(urlSafeUnpadded) == bytes)
    }

    @Test(arguments: [
        "Z",  // a single leftover character carries only 6 bits
        "Zm9vY",  // likewise after a full group
        "Zg=",  // padding that does not complete the group
        "Zg===",  // too much padding
        "Zm9v=",  // padding after a complete group
        "=",
        "==",
        "====",
        "Zg==Zg==",  // padding in the middle
        "Zm9v YmFy",  // whitespace
        "Zm9vYmFy\n",
        " Zm9v",
        "Zm9v*mFy",  // not in either alphabet
        "Zm9v\u{00E9}",
        "Zh==",  // non-zero unused bits
        "Zm9=",
        "+_8=",  // standard and URL-safe alphabets mixed
        "-/8=",
    ])
    func rejectsInvalidEncodings(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
