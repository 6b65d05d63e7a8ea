import Crypto
import Foundation
import Hummingbird

// Usage: HummingbirdPeer PORT SECRET
let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8081
let secret = SymmetricKey(data: Data((CommandLine.arguments.dropFirst(2).first ?? "benchmark-secret").utf8))
guard let token = HTTPField.Name("webhooktoken"), let signatureName = HTTPField.Name("X-Hub-Signature") else {
    fatalError("invalid header names")
}

struct Event: Decodable {
    var orgId: Int64
}

func hexBytes(_ text: Substring) -> [UInt8]? {
    guard text.utf8.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count / 2)
    var iterator = text.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        guard let h = UInt8(String(UnicodeScalar(high)), radix: 16),
            let l = UInt8(String(UnicodeScalar(low)), radix: 16)
        else { return nil }
        bytes.append(h << 4 | l)
    }
    return bytes
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
