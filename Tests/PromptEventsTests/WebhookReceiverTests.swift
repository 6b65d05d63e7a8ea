import Foundation
import PromptEvents
import Testing

@Suite struct WebhookReceiverTests {
    /// Records which handlers saw which kinds.
    final class Log: Sendable {
        let entries = Locked<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    private func delivery(_ target: String, body: String = #"{"orgId": 7}"#, headers: Headers = [:]) -> Delivery {
        Delivery(target: target, headers: headers, body: Array(body.utf8))
    }

    private func receiverLoggingEveryKind(_ log: Log) -> WebhookReceiver {
        var receiver = WebhookReceiver()
        receiver.on(.messageAdded) { event in log.add("messageAdded \(event.payload.orgID ?? 0)") }
        receiver.on(.messageStatus) { _ in log.add("messageStatus") }
        receiver.on(.customerAdded) { _ in log.add("customerAdded") }
        receiver.on(.customerOptOut) { _ in log.add("customerOptOut") }
        receiver.on(.contactAction) { _ in log.add("contactAction") }
        receiver.on(.broadcastStatusChanged) { _ in log.add("broadcastStatusChanged") }
        receiver.on(.smartlinkClicked) { _ in log.add("smartlinkClicked") }
        receiver.onAny { event in log.add("any \(event.kind)") }
        return receiver
    }

    @Test(arguments: EventKind.known)
    func eachKindReachesOnlyItsHandlersAndTheCatchAll(kind: EventKind) async throws {
        let log = Log()
        let receiver = receiverLoggingEveryKind(log)
        guard case .accepted(let event) = receiver.admit(delivery("/" + kind.rawValue)) else {
            Issue.record("not accepted")
            return
        }
        let report = await receiver.dispatch(event)
        #expect(report.succeeded)
        #expect(report.outcomes.count == 2)
        let typed: [EventKind: String] = [
            .messageAdded: "messageAdded 7", .messageStatus: "messageStatus", .customerAdded: "customerAdded",
            .customerOptOut: "customerOptOut", .contactAction: "contactAction",
            .broadcastStatusChanged: "broadcastStatusChanged", .smartlinkClicked: "smartlinkClicked",
        ]
        #expect(log.all == [typed[kind] ?? "?", "any \(kind)"])
    }

    @Test func unknownKindsReachOnlyTheCatchAll() async throws {
        let log = Log()
        let receiver = receiverLoggingEveryKind(log)
        guard case .accepted(let event) = receiver.admit(delivery("/customer/optIn")) else {
            Issue.record("not accepted")
            return
        }
        _ = await receiver.dispatch(event)
        #expect(log.all == ["any customer/optIn"])
    }

    @Test func handlersRunInRegistrationOrderWithStableNames() async throws {
        let log = Log()
        var receiver = WebhookReceiver()
        let line = #line
        receiver.onAny { _ in log.add("first") }
        receiver.on(.messageAdded, name: "crm") { _ in log.add("second") }
        receiver.on(.messageAdded) { _ in log.add("third") }
        // Named by kind and call site, not by order: registering in another order names them alike.
        let file = "PromptEventsTests/WebhookReceiverTests.swift"
        #expect(
            receiver.handlers(for: .messageAdded).map(\.name) == [
                "*@\(file):\(line + 1)", "crm", "message/added@\(file):\(line + 3)",
            ]
        )
        let response = await receiver.respond(to: delivery("/message/added"))
        #expect(response.status == 200)
        #expect(log.all == ["first", "second", "third"])
    }

    @Test func aThrowingHandlerIsAFailureNamingItsKindAndOthersStillRun() async throws {
        let log = Log()
        let failures = Log()
        var receiver = WebhookReceiver()
        receiver.on(.customerOptOut, name: "mailing-list") { _ in throw Boom() }
        receiver.onAny { _ in log.add("ran") }
        receiver.onError { _, error in failures.add(error.description) }
        guard case .accepted(let event) = receiver.admit(delivery("/customer/optOut")) else {
            Issue.record("not accepted")
            return
        }
        let report = await receiver.dispatch(event)
        #expect(!report.succeeded)
        #expect(report.outcomes.map(\.succeeded) == [false, true])
        #expect(log.all == ["ran"])
        #expect(failures.all == ["handler 'mailing-list' for customer/optOut failed: boom"])
        #expect(await receiver.respond(to: delivery("/customer/optOut")).status == 500)
    }

    @Test func aDecodableUserPayloadThatDoesNotMatchFailsTheHandler() async throws {
        struct Strict: EventPayload, Decodable {
            var required: String
        }
        var receiver = WebhookReceiver()
        receiver.on(EventType<Strict>("strict/kind")) { _ in }
        #expect(await receiver.respond(to: delivery("/strict/kind")).status == 500)
        #expect(await receiver.respond(to: delivery("/strict/kind", body: #"{"required":"yes"}"#)).status == 200)
    }

    struct BodyCase: Sendable, CustomTestStringConvertible {
        var name: String
        var body: [UInt8]
        var accepted: Bool
        var testDescription: String { name }
    }

    static let bodies: [BodyCase] = [
        BodyCase(name: "object", body: Array(#"{"orgId":1}"#.utf8), accepted: true),
        BodyCase(name: "empty object", body: Array("{}".utf8), accepted: true),
        BodyCase(name: "array", body: Array("[{\"orgId\":1}]".utf8), accepted: false),
        BodyCase(name: "string", body: Array("\"hello\"".utf8), accepted: false),
        BodyCase(name: "number", body: Array("42".utf8), accepted: false),
        BodyCase(name: "null", body: Array("null".utf8), accepted: false),
        BodyCase(name: "empty", body: [], accepted: false),
        BodyCase(name: "not JSON", body: Array("orgId=1".utf8), accepted: false),
        BodyCase(name: "invalid UTF-8", body: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], accepted: false),
        BodyCase(name: "truncated", body: Array(#"{"orgId":1"#.utf8), accepted: false),
    ]

    @Test(arguments: bodies)
    func onlyJSONObjectBodiesAreAdmitted(_ testCase: BodyCase) {
        let admission = WebhookReceiver().admit(Delivery(target: "/message/added", body: testCase.body))
        switch admission {
        case .accepted:
            #expect(testCase.accepted)
        case .rejected(let rejection):
            #expect(!testCase.accepted)
            #expect(rejection.status == 400)
            #expect(rejection.reason == .malformedBody)
            #expect(rejection.isAuthenticated)
            #expect(!rejection.message.isEmpty)
            #expect(!rejection.message.contains("\n"))
        }
    }

    @Test(arguments: [
        "deep-nesting.json", "invalid-utf8.bin", "array-body.json", "scalar-body.json", "empty-body.json",
    ])
    func hostileFixturesGetAClearRejection(fixture: String) throws {
        let admission = WebhookReceiver().admit(Delivery(target: "/message/added", body: try Fixture.bytes(fixture)))
        guard case .rejected(let rejection) = admission else {
            Issue.record("accepted a hostile body")
            return
        }
        #expect(rejection.status == 400)
        #expect(rejection.message.hasPrefix("The body is"))
    }

    @Test func aOneMebibyteBodyIsAccepted() {
        let body =
            Array(#"{"orgId":1,"padding":""#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            + Array(#""}"#.utf8)
        guard case .accepted(let event) = WebhookReceiver().admit(Delivery(target: "/message/added", body: body)) else {
            Issue.record("rejected a 1 MiB body")
            return
        }
        #expect(event.json["padding"]?.string?.utf8.count == 1 << 20)
        #expect(event.body == body)
    }

    @Test(arguments: [
        ("GET", "/message/added", 405, Rejection.Reason.methodNotAllowed),
        ("PUT", "/message/added", 405, .methodNotAllowed),
        ("POST", "/", 404, .missingKind),
    ])
    func routeAndMethodRejections(method: String, target: String, status: Int, reason: Rejection.Reason) {
        var delivery = delivery(target)
        delivery.method = method
        guard case .rejected(let rejection) = WebhookReceiver().admit(delivery) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.status == status)
        #expect(rejection.reason == reason)
        if status == 405 { #expect(rejection.headers["Allow"] == "POST") }
    }

    @Test func pathsOutsideTheBasePathAreNotFound() {
        let receiver = WebhookReceiver(routing: EventRouting(basePath: "/hooks"))
        guard case .rejected(let rejection) = receiver.admit(delivery("/message/added")) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.status == 404)
        guard case .accepted = receiver.admit(delivery("/hooks/message/added")) else {
            Issue.record("rejected")
            return
        }
    }

    @Test func theEventKeepsHeadersDeclaredKindAndExactBytes() {
        let body = "{ \"orgId\" : 7 ,\n \"a\":1.0 }"
        let headers: Headers = ["Prompt-EventType": "message/status", "X-Dup": "1", "x-dup": "2"]
        guard
            case .accepted(let event) = WebhookReceiver().admit(
                delivery("/message/added", body: body, headers: headers)
            )
        else {
            Issue.record("rejected")
            return
        }
        #expect(event.kind == .messageAdded)
        #expect(event.declaredKind == .messageStatus)
        #expect(event.body == Array(body.utf8))
        #expect(event.headers.values(for: "x-dup") == ["1", "2"])
        #expect(event.json["a"]?.number?.text == "1.0")
    }
}
