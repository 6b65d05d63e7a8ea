import PromptEvents
import Testing

@Suite struct EventRoutingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var basePath: String
        var target: String
        var header: String?
        var expected: EventRouting.Resolution
        var testDescription: String { "\(basePath) \(target) [\(header ?? "-")]" }
    }

    static let cases: [Case] = [
        Case(basePath: "/", target: "/message/added", header: nil, expected: .kind(.messageAdded)),
        Case(basePath: "/", target: "/message/added/", header: nil, expected: .kind(.messageAdded)),
        Case(basePath: "/", target: "//message//added", header: nil, expected: .kind(.messageAdded)),
        Case(basePath: "/", target: "/message/added?source=test", header: nil, expected: .kind(.messageAdded)),
        Case(basePath: "/", target: "/contactAction", header: nil, expected: .kind(.contactAction)),
        Case(basePath: "/", target: "/customer/optIn", header: nil, expected: .kind("customer/optIn")),
        Case(
            basePath: "/hooks/prompt",
            target: "/hooks/prompt/customer/added",
            header: nil,
            expected: .kind(.customerAdded)
        ),
        Case(
            basePath: "/hooks/prompt/",
            target: "/hooks//prompt/customer/added",
            header: nil,
            expected: .kind(.customerAdded)
        ),
        Case(basePath: "hooks", target: "/hooks/smartlink/clicked", header: nil, expected: .kind(.smartlinkClicked)),
        Case(basePath: "/hooks", target: "/other/message/added", header: nil, expected: .outsideBasePath),
        Case(basePath: "/hooks", target: "/hooksmessage/added", header: nil, expected: .outsideBasePath),
        Case(basePath: "/hooks", target: "/hooks", header: "message/status", expected: .kind(.messageStatus)),
        Case(basePath: "/", target: "/", header: "/broadcast/statusChanged", expected: .kind(.broadcastStatusChanged)),
        Case(basePath: "/", target: "/?x=1", header: " customer/optOut ", expected: .kind(.customerOptOut)),
        Case(basePath: "/", target: "/", header: nil, expected: .missingKind),
        Case(basePath: "/", target: "/", header: "", expected: .missingKind),
        Case(basePath: "/hooks/prompt", target: "/hooks", header: "message/added", expected: .outsideBasePath),
        Case(basePath: "/hooks", target: "/hook", header: "message/added", expected: .outsideBasePath),
        Case(basePath: "/hooks", target: "/hooks/#frag", header: "message/added", expected: .kind(.messageAdded)),
        Case(basePath: "/hooks", target: "/hooks/é/x", header: nil, expected: .kind("é/x")),
        Case(basePath: "/é", target: "//é//customer/added//", header: nil, expected: .kind(.customerAdded)),
        // The path wins when both are present and disagree; the header is kept as declaredKind.
        Case(basePath: "/", target: "/message/added", header: "message/status", expected: .kind(.messageAdded)),
    ]

    @Test(arguments: cases)
    func resolvesKindFromPathOrHeader(_ testCase: Case) {
        let routing = EventRouting(basePath: testCase.basePath)
        var headers = Headers()
        if let header = testCase.header { headers.append(name: "Prompt-EventType", value: header) }
        #expect(routing.resolve(target: testCase.target, headers: headers) == testCase.expected)
    }

    /// The byte-level matcher against the obvious definition (split on `/`, drop empty segments),
    /// over every target of up to six characters from a small alphabet.
    @Test(arguments: ["/", "/a", "/a/b", "/é"])
    func eventPathMatchesSegmentDefinition(basePath: String) {
        let alphabet: [String] = ["a", "b", "/", "?", "é"]
        func reference(_ target: String) -> String? {
            let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let segments = path.split(separator: "/")
            let base = basePath.split(separator: "/")
            guard segments.starts(with: base) else { return nil }
            return segments.dropFirst(base.count).joined(separator: "/")
        }
        let routing = EventRouting(basePath: basePath)
        var targets = [""]
        for _ in 0..<6 {
            targets = targets.flatMap { prefix in alphabet.map { prefix + $0 } }
            for target in targets where routing.eventPath(target: target) != reference(target) {
                Issue.record(
                    "\(target): \(routing.eventPath(target: target) ?? "nil") != \(reference(target) ?? "nil")"
                )
                return
            }
        }
    }

    @Test func eventKindsNormaliseSlashes() {
        #expect(EventKind("/message/added/") == .messageAdded)
        #expect(EventKind("message//added") == .messageAdded)
        #expect(EventKind.known.count == 7)
        #expect(EventKind("customer/optIn").isKnown == false)
    }

    @Test func userDeclaredKindsAreEqualToTheirPath() {
        let optIn: EventKind = "customer/optIn"
        #expect(optIn.rawValue == "customer/optIn")
        #expect(optIn.description == "customer/optIn")
    }
}
