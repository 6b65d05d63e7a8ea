import Foundation
import Testing

@testable import PromptEventsServer

/// Request cases taken from other HTTP parsers' public test suites (python-hyper's h11 and
/// hyper's httparse; see Fixtures/README.md for sources and licences), run through our parser.
///
/// Each case records what the outside parser decided (`theirs`) and what ours must answer
/// (`ours`: `accept`, or the 4xx/5xx status). Where the two differ, `why` gives the RFC 9112 /
/// RFC 9110 reason for our answer; a difference without a reason fails.
@Suite struct OutsideCorpusTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var source: String
        var name: String
        var raw: [UInt8]
        var theirs: String
        var ours: String
        var why: String?
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/outside-corpus.json")
        guard let data = try? Data(contentsOf: url),
            let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return list.map { entry in
            Case(
                source: entry["source"] as? String ?? "?",
                name: entry["name"] as? String ?? "?",
                raw: Array(Data(base64Encoded: entry["raw_base64"] as? String ?? "") ?? Data()),
                theirs: entry["theirs"] as? String ?? "?",
                ours: entry["ours"] as? String ?? "?",
                why: entry["why"] as? String
            )
        }
    }()

    @Test func theCorpusIsThere() {
        #expect(Self.cases.count >= 40)
    }

    /// What our parser makes of the bytes: `accept` when every request in them parses (a body
    /// still awaited counts: the head was accepted), else the status of the error.
    static func decision(_ raw: [UInt8], chunking: Chunking) -> String {
        let outcome = parse(raw, chunking: chunking)
        if let error = outcome.error { return String(error.status) }
        return outcome.heads.isEmpty ? "incomplete" : "accept"
    }

    @Test(arguments: cases)
    func ourAnswerIsTheRecordedOneAndAnyDifferenceHasAReason(_ test: Case) {
        #expect(test.raw.isEmpty == false)
        #expect(Self.decision(test.raw, chunking: .whole) == test.ours)
        // The same answer whatever the split: every byte on its own.
        #expect(Self.decision(test.raw, chunking: .fixed(1)) == test.ours)
        let agree = (test.theirs == "accept") == (test.ours == "accept")
        if !agree {
            #expect(test.why?.isEmpty == false, "ours differs from \(test.source) without a reason")
        }
    }
}
