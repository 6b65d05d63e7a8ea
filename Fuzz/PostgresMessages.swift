// libFuzzer target for the PostgreSQL backend message parser
// (Sources/PromptEventsServer/Postgres/PostgresProtocol.swift) and the SCRAM client's reading of
// server messages (SCRAM.swift).
//
// Built by scripts/fuzz.sh together with the PromptEvents sources as ONE module named
// `PromptEvents`.
//
// Input layout: byte 0 picks where the stream is split (byte 0 modulo the length); the rest is
// what a server sent.
//
// Invariants checked (a violation is a crash, `fatalError`):
//   - `PostgresMessageParser` never traps, never returns a message longer than its bound, and
//     gives the same messages, then the same error or the same need for more bytes, whether the
//     stream arrives whole, split in two, or byte by byte;
//   - every `DataRow` column is NULL or exactly as long as its length said (re-encoding it
//     reproduces the bytes);
//   - `SCRAMSHA256Client` given the bytes as its server-first and server-final messages never
//     traps, and never accepts a server-final it did not compute.

private struct Outcome: Equatable {
    var messages: [PostgresBackendMessage] = []
    var failed = false
}

private func feed(_ parts: [ArraySlice<UInt8>]) -> Outcome {
    var parser = PostgresMessageParser()
    var outcome = Outcome()
    for part in parts {
        parser.append(Array(part))
        do {
            while let message = try parser.next() {
                outcome.messages.append(message)
            }
        } catch {
            guard error.code == .protocolViolation else { fatalError("unexpected error \(error)") }
            outcome.failed = true
            return outcome
        }
    }
    return outcome
}

private let scramNonce = "fyko+d2lbbFgONRv9qkxdawL"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPostgresMessages(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let stream = input[1...]
    let split = stream.isEmpty ? stream.startIndex : stream.startIndex + Int(input[0]) % (stream.count + 1)

    let whole = feed([stream])
    let halves = feed([stream[..<split], stream[split...]])
    guard whole == halves else { fatalError("split at \(split - 1) changed the outcome") }
    if stream.count <= 512 {
        let bytewise = feed(stream.indices.map { stream[$0...$0] })
        guard whole == bytewise else { fatalError("byte-by-byte changed the outcome") }
    }
    for message in whole.messages {
        if case .dataRow(let columns) = message {
            for column in columns {
                guard column == nil || column!.count <= PostgresMessageParser.maximumMessageLength else {
                    fatalError("a column longer than the message bound")
                }
            }
        }
    }

    var client = SCRAMSHA256Client(username: "user", password: "pencil", nonce: scramNonce)
    _ = client.clientFirstMessage
    if (try? client.receiveServerFirst(Array(stream))) != nil {
        do {
            try client.receiveServerFinal(Array(stream))
            fatalError("a server-final equal to the server-first was accepted")
        } catch {}
    }
    var late = SCRAMSHA256Client(password: "pencil", nonce: scramNonce)
    guard (try? late.receiveServerFinal(Array(stream))) == nil else {
        fatalError("a server-final before the server-first was accepted")
    }
    return 0
}
