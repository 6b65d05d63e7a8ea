// Micro-benchmarks, release mode: swift run -c release PromptEventsMicroBenchmarks [filter]
//
// Each line times one stage of a delivery in isolation: request parsing, JSON parse and typed
// decode, HMAC-SHA1 over 1.5 KiB, SHA-1/SHA-256 throughput, and journal append+fdatasync per
// record at batch sizes 1, 8 and 64 (in ./.bench-journal, on the disk holding the current
// directory). Each figure is the best of many short windows (the uncontended speed on a shared
// machine) and the median (how noisy the machine was).
import Foundation
import PromptEvents
import PromptEventsServer

let filter = CommandLine.arguments.dropFirst().first

// `--constant-time first|last`: compare two 32-byte MACs that differ in their first or last
// byte, 100,000 times, and exit; scripts/constant-time.sh counts the instructions under callgrind.
if filter == "--constant-time" {
    var left = [UInt8](repeating: 0x5A, count: 32)
    let right = left
    left[CommandLine.arguments.dropFirst(2).first == "first" ? 0 : 31] ^= 0xFF
    var equal = 0
    for _ in 0..<100_000 where constantTimeEquals(left, right) { equal += 1 }
    print("equal: \(equal)")
    exit(0)
}

// `--json-parse N`: parse the 1.5 KB benchmark event N times and exit; count the instructions
// with `valgrind --tool=callgrind … --json-parse 2000` (times on this machine are noise).
if filter == "--json-parse" {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/PromptEventsTests/Fixtures/bench-event.json")
    let event = Array(try Data(contentsOf: fixture.standardized))
    var members = 0
    for _ in 0..<(CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) } ?? 1000) {
        if case .object(let object)? = try? JSONValue(parsing: event) { members += object.count }
    }
    print("members: \(members)")
    exit(0)
}

func measure(_ name: String, unit: String = "µs", scale: Double = 1e-3, bytes: Int? = nil, _ body: () -> Int) {
    if let filter, !name.contains(filter) { return }
    let clock = ContinuousClock()
    var sink = 0
    var calls = 1
    func nanoseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
    }
    while true {
        let start = clock.now
        for _ in 0..<calls { sink &+= body() }
        if nanoseconds(start.duration(to: clock.now)) > 2e6 || calls > 1 << 20 { break }
        calls *= 2
    }
    var samples: [Double] = []
    let end = clock.now.advanced(by: .seconds(1))
    while clock.now < end || samples.count < 10 {
        let start = clock.now
        for _ in 0..<calls { sink &+= body() }
        samples.append(nanoseconds(start.duration(to: clock.now)) / Double(calls))
    }
    samples.sort()
    let best = samples[0] * scale
    let median = samples[samples.count / 2] * scale
    if let bytes {
        // MB/s (10^6 bytes per second), best and median.
        let rate = { (nanoseconds: Double) in Double(bytes) / nanoseconds * 1e3 }
        print(
            name.padding(toLength: 46, withPad: " ", startingAt: 0)
                + String(format: "%10.0f MB/s (median %.0f)", rate(samples[0]), rate(samples[samples.count / 2]))
        )
        return
    }
    print(
        name.padding(toLength: 46, withPad: " ", startingAt: 0)
            + String(format: "%10.2f %@ (median %.2f)", best, unit, median) + (sink == 42 ? " " : "")
    )
}

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Tests/PromptEventsTests/Fixtures/bench-event.json")
let body = Array(try Data(contentsOf: fixtures.standardized))
let secret = Secret("benchmark-secret")
let signature = HubSignature.sign(body, secret: secret).value
var head = "POST /customer/added HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Prompt.io\r\n"
head += "Content-Type: application/json\r\nPrompt-EventType: customer/added\r\nwebhooktoken: abcdefg\r\n"
head += "X-Hub-Signature: \(signature)\r\nContent-Length: \(body.count)\r\n\r\n"
let request = Array(head.utf8) + body

print("body: \(body.count) bytes; request: \(request.count) bytes")
measure("HTTP request parse (head + 1.5 KB body)", unit: "ns", scale: 1) {
    var parser = RequestParser()
    parser.append(request)
    var events = 0
    while let event = try? parser.next() {
        if case .end(let bytes) = event { events += bytes.count }
    }
    return events
}

let authentication = Authentication(
    hubSecrets: [HubSecret(secret)],
    headerTokens: [HeaderToken(name: "webhooktoken", value: Secret("abcdefg"))]
)
let headers: Headers = ["webhooktoken": "abcdefg", "X-Hub-Signature": signature]
measure("authenticate: header token + HMAC-SHA1 1.5 KB") {
    (try? authentication.verify(headers, body: body)) == nil ? 0 : 1
}
let hmac = HMAC<SHA1>(key: Array("benchmark-secret".utf8))
let kibibyte15 = [UInt8](repeating: 0x61, count: 1536)
measure("HMAC-SHA1, 1,536 B, key prepared") { Int(hmac.authenticationCode(for: kibibyte15)[0]) }
let mebibyte = [UInt8](repeating: 0x61, count: 1 << 20)
measure("SHA-1, 1 MiB", bytes: mebibyte.count) { Int(SHA1.hash(mebibyte)[0]) }
measure("SHA-256, 1 MiB", bytes: mebibyte.count) { Int(SHA256.hash(mebibyte)[0]) }

struct Small: Decodable {
    var orgId: Int64
    var customer: Customer
    struct Customer: Decodable { var id: Int64 }
}
measure("JSON parse (JSONValue), 1.5 KB") {
    guard case .object(let object)? = try? JSONValue(parsing: body) else { return 0 }
    return object.count
}
measure("JSON parse + typed CustomerAdded payload") {
    guard case .object(let object)? = try? JSONValue(parsing: body) else { return 0 }
    let event = AnyEvent(kind: .customerAdded, json: object, body: body)
    return (try? Event<CustomerAdded>(event).payload.customer?.channels?.count) ?? 0
}
measure("JSON parse + JSONValueDecoder (orgId, customer.id)") {
    guard let value = try? JSONValue(parsing: body), let small = try? JSONValueDecoder().decode(Small.self, from: value)
    else { return 0 }
    return Int(small.orgId)
}
measure("Foundation JSONDecoder (orgId, customer.id)") {
    (try? JSONDecoder().decode(Small.self, from: Data(body))).map { Int($0.orgId) } ?? 0
}
let receiver = WebhookReceiver(authentication: authentication)
let delivery = Delivery(target: "/customer/added", headers: headers, body: body)
measure("receiver.admit: auth + kind + JSON (whole delivery)") {
    if case .accepted(let event) = receiver.admit(delivery) { return event.json.count }
    return 0
}

// Journal append + fdatasync on the real disk.
let directory = FileManager.default.currentDirectoryPath + "/.bench-journal"
try? FileManager.default.removeItem(atPath: directory)
let journal = try Journal.open(at: directory)
var counter = 0
for batch in [1, 8, 64] {
    measure("journal append+sync per record, batch \(batch)", scale: 1e-3 / Double(batch)) {
        for _ in 0..<batch {
            counter += 1
            var unique = delivery
            unique.body = body + Array(" \(counter)".utf8)
            _ = try? journal.append(unique, kind: "customer/added")
        }
        try? journal.sync()
        return batch
    }
}
try journal.close()
try? FileManager.default.removeItem(atPath: directory)

// The cost of one append must not grow with the records already in the segment (issue 21: a
// copy of the segment's sets per insert made it O(n)). In memory, without syncs, so only the
// journal's own work is timed: 1,000 appends after 100 and after 10,000 records in one segment,
// best of 7 fresh journals. The two figures should be within a few per cent.
if filter == nil || "journal append, no sync".contains(filter!) {
    var perAppend: [Int: Double] = [:]
    for already in [100, 10_000] {
        var best = Double.infinity
        for _ in 0..<7 {
            let memoryJournal = try Journal.open(
                at: "/bench",
                configuration: Journal.Configuration(segmentSize: 1 << 30),
                fileSystem: InMemoryFileSystem()
            )
            var serial = 0
            func appendOne() {
                serial += 1
                var unique = delivery
                unique.body = body + Array(" \(serial)".utf8)
                _ = try? memoryJournal.append(unique, kind: "customer/added")
            }
            for _ in 0..<already { appendOne() }
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<1_000 { appendOne() }
            let elapsed = start.duration(to: clock.now)
            best = min(best, (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / 1_000)
            try memoryJournal.close()
        }
        perAppend[already] = best
        print("journal append, no sync, after \(already) records".padding(toLength: 46, withPad: " ", startingAt: 0)
            + String(format: "%10.0f ns", best))
    }
    print(String(format: "journal append growth, 10,000 vs 100 records: %.2f×", perAppend[10_000]! / perAppend[100]!))
}
