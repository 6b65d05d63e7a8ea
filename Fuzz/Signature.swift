// libFuzzer target for signature header parsing and verification
// (Sources/PromptEvents/Authentication, Crypto).
//
// Built by scripts/fuzz.sh together with the PromptEvents sources as ONE module named
// `PromptEvents`.
//
// Input layout: byte 0 is a flag byte, the rest is split at LF (0x0A) into at most five parts:
//   X-Hub-Signature value, X-Hub-Signature-256 value, Authorization value, webhooktoken value,
//   body (the body is everything after the fourth LF, LFs included).
//   flags bit 0..3: send header 1..4 (else it is absent); bit 4: duplicate the signature
//   headers; bits 5..7: which methods the endpoint requires (hub, basic, token).
//
// Invariants checked (a violation is a crash, `fatalError`):
//   - `HubSignature.candidates(in:defaultAlgorithm:)` never traps and every candidate's MAC has
//     the algorithm's length; `Authentication.basicCredentials(in:)` never traps;
//   - `Authentication.verify`, `verifyHead`, `verifyBody` and `explain` never trap, and
//     `explain` passes exactly when `verify` does;
//   - an endpoint with nothing configured accepts everything;
//   - a signature made by `HubSignature.sign` (every format) over the body verifies, and still
//     verifies when the fuzzed value is added as a second, comma-separated entry that parses;
//   - Base64 and Hex decode what they encode.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

private let now = Date(timeIntervalSince1970: 1_800_000_000)
private let current = Secret("s3cr3t")
private let expired = Secret("old-secret", expires: Date(timeIntervalSince1970: 1_700_000_000))
private let basic = BasicCredential(username: "prompt", password: Secret("pa:ss"))
private let token = HeaderToken(name: "webhooktoken", value: Secret("abcdefg"))

private func parts(_ bytes: UnsafeBufferPointer<UInt8>) -> (values: [String], body: [UInt8]) {
    var values: [String] = []
    var start = 0
    var index = 0
    while values.count < 4 && index < bytes.count {
        if bytes[index] == 0x0A {
            values.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            start = index &+ 1
        }
        index &+= 1
    }
    if values.count < 4 {
        values.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
        start = bytes.count
    }
    while values.count < 4 { values.append("") }
    return (values, Array(bytes[start...]))
}

private func checkCandidates(_ value: String) {
    for algorithm in HubSignature.Algorithm.allCases {
        guard let candidates = HubSignature.candidates(in: value, defaultAlgorithm: algorithm) else { continue }
        guard !candidates.isEmpty else { fatalError("candidates returned an empty list instead of nil") }
        for candidate in candidates where candidate.mac.count != candidate.algorithm.macByteCount {
            fatalError("\(candidate.algorithm) candidate with a \(candidate.mac.count)-byte MAC from \(value.debugDescription)")
        }
    }
}

private func verifies(_ authentication: Authentication, _ headers: Headers, _ body: [UInt8]) -> Bool {
    do {
        try authentication.verify(headers, body: body, now: now)
        return true
    } catch {
        _ = error.description
        return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignature(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let flags = input[0]
    let (values, body) = parts(UnsafeBufferPointer(rebasing: input[1...]))

    // Header parsing on its own.
    checkCandidates(values[0])
    checkCandidates(values[1])
    _ = Authentication.basicCredentials(in: values[2])
    _ = BasicCredential.parse(values[2])
    _ = HeaderToken.parse(values[3])
    if let decoded = Base64.decode(values[2]) {
        _ = Base64.encode(decoded)
    }
    if let decoded = Hex.decode(values[0]) {
        guard Hex.decode(Hex.encode(decoded)) == decoded else { fatalError("Hex round trip") }
    }
    guard Base64.decode(Base64.encode(body)) == body else { fatalError("Base64 round trip of the body") }
    guard Hex.decode(Hex.encode(body, uppercase: flags & 1 != 0)) == body else { fatalError("Hex round trip of the body") }

    // A full request.
    var headers = Headers()
    let names = [HubSignature.sha1HeaderName, HubSignature.sha256HeaderName, "Authorization", "WebhookToken"]
    for (bit, name) in names.enumerated() where flags & (1 << bit) != 0 {
        headers.append(name: name, value: values[bit])
        if flags & 0x10 != 0 && bit < 2 { headers.append(name: name.lowercased(), value: values[bit]) }
    }
    headers.append(name: "Content-Type", value: "application/json")

    let authentication = Authentication(
        basicCredentials: flags & 0x40 != 0 ? [basic] : [],
        hubSecrets: flags & 0x20 != 0 || flags & 0xE0 == 0 ? [HubSecret(expired), HubSecret(current)] : [],
        headerTokens: flags & 0x80 != 0 ? [token] : []
    )
    let verified = verifies(authentication, headers, body)
    _ = try? authentication.verifyHead(headers, now: now)
    _ = try? authentication.verifyBody(headers, body: body, now: now)
    let checks = authentication.explain(headers, body: body, now: now)
    if checks.allSatisfy(\.passed) != verified {
        fatalError("explain says \(checks.map(\.passed)), verify says \(verified)")
    }
    _ = authentication.secretHeaderNames
    guard verifies(.open, headers, body) else { fatalError("an open endpoint rejected a request") }

    // Correct signatures verify, alone or alongside a fuzzed entry.
    let hubOnly = Authentication(hubSecrets: [HubSecret(expired), HubSecret(current)])
    for format in HubSignature.Format.allCases {
        let (name, value) = HubSignature.sign(body, secret: current, format: format)
        guard verifies(hubOnly, [name: value], body) else { fatalError("a \(format) signature from sign() failed") }
        let fuzzed = name == HubSignature.sha1HeaderName ? values[0] : values[1]
        let algorithm: HubSignature.Algorithm = name == HubSignature.sha1HeaderName ? .sha1 : .sha256
        if HubSignature.candidates(in: fuzzed, defaultAlgorithm: algorithm) != nil {
            guard verifies(hubOnly, [name: fuzzed + ", " + value], body) else {
                fatalError("a correct \(format) signature after a well-formed entry failed")
            }
            guard verifies(hubOnly, [name: value + "," + fuzzed], body) else {
                fatalError("a correct \(format) signature before a well-formed entry failed")
            }
        }
    }
    return 0
}
