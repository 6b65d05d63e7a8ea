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

    /// Paths that could walk a handler that builds a file path from the kind out of its
    /// directory are refused, from the path and from `Prompt-EventType` alike; look-alikes that
    /// are harmless stay kinds.
    static let unsafePaths: [(String, String?)] = [
        ("/../../etc/passwd", "a `..` segment"),
        ("/message/..", "a `..` segment"),
        ("/./message/added", "a `.` segment"),
        ("/message/%2E%2e/x", "a `..` segment"),
        ("/message/.%2E", "a `..` segment"),
        ("/%2e/x", "a `.` segment"),
        ("/message%2Fadded", "a percent-encoded `/`"),
        ("/message%2fadded", "a percent-encoded `/`"),
        ("/a%5Cb", "a percent-encoded `\\`"),
        ("/a\\b", "a `\\`"),
        ("/a%00b", "a percent-encoded NUL"),
        ("/a%0Ab", "a percent-encoded control byte"),
        ("/a%7fb", "a percent-encoded control byte"),
        // Harmless: not a whole segment of dots, or not an encoded separator.
        ("/message/added", nil),
        ("/.../x", nil),
        ("/a..b/c.d", nil),
        ("/.hidden", nil),
        ("/a%20b", nil),
        ("/a%2", nil),
        ("/a%zz", nil),
        ("/caf%C3%A9", nil),
    ]

    @Test(arguments: unsafePaths)
    func unsafePathSegmentsAreRefused(_ path: String, _ problem: String?) {
        let routing = EventRouting()
        let fromPath = routing.resolve(target: path, headers: Headers())
        let fromHeader = routing.resolve(target: "/", headers: ["Prompt-EventType": String(path.dropFirst())])
        if let problem {
            #expect(fromPath == .unsafePath("The path has \(problem)."))
            #expect(fromHeader == .unsafePath("The Prompt-EventType has \(problem)."))
        } else {
            #expect(fromPath == .kind(EventKind(path)))
            #expect(fromHeader == .kind(EventKind(path)))
        }
    }

    @Test func receiverAnswersUnsafePathWith400BeforeAuthentication() {
        let receiver = WebhookReceiver(authentication: Authentication(hubSecrets: [HubSecret(Secret("s"))]))
        let delivery = Delivery(method: "POST", target: "/../../etc/passwd", headers: Headers(), body: Array("{}".utf8))
        guard case .rejected(let rejection) = receiver.admit(delivery) else {
            Issue.record("an unsafe path was accepted")
            return
        }
        #expect(rejection.status == 400)
        #expect(rejection.reason == .unsafePath)
        #expect(rejection.response.body == Array("The path has a `..` segment.\n".utf8))
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
