@preconcurrency import Crypto
import Foundation
import HTTPTypes
import Hummingbird

// Usage: HummingbirdPeer PORT SECRET
// The same work as prompt-listen: the webhooktoken header, X-Hub-Signature (HMAC-SHA1 over the
// raw body, compared in constant time by swift-crypto), a JSON decode of the body, then 200.

struct Event: Decodable {
    var orgId: Int64
}

enum Peer {
    static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func run() async throws {
        let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8081
        let secret = SymmetricKey(data: Data((CommandLine.arguments.dropFirst(2).first ?? "benchmark-secret").utf8))
        guard let token = HTTPField.Name("webhooktoken"), let signatureName = HTTPField.Name("X-Hub-Signature") else {
            fatalError("invalid header names")
        }
        let router = Router()
        router.post("message/added") { request, _ -> HTTPResponse.Status in
            guard request.headers[token] == "abcdefg" else { return .unauthorized }
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let body = Data(buffer: buffer)
            guard let header = request.headers[signatureName], header.hasPrefix("sha1="),
                let mac = hexBytes(header.dropFirst(5)),
                HMAC<Insecure.SHA1>.isValidAuthenticationCode(mac, authenticating: body, using: secret)
            else { return .unauthorized }
            let event = try JSONDecoder().decode(Event.self, from: body)
            return event.orgId >= 0 ? .ok : .badRequest
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}

try await Peer.run()
