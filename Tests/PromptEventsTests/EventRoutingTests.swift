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
