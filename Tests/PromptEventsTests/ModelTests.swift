import Foundation
import PromptEvents
import Testing

@Suite struct ModelTests {
    private func event(_ fixture: String, kind: EventKind) throws -> AnyEvent {
        let body = try Fixture.bytes(fixture)
        let object = try #require(try JSONValue(parsing: body).object)
        return AnyEvent(kind: kind, json: object, body: body)
    }

    @Test func customerAddedReadsTheDocumentedCustomerModel() throws {
        let payload = try Event<CustomerAdded>(event("customer-added.json", kind: .customerAdded)).payload
        #expect(payload.orgID == 12345)
        let customer = try #require(payload.customer)
        #expect(customer.id == 9_876_543_210_123)
        #expect(customer.displayName == "Ana María")
        #expect(customer.userType == .customer)
        #expect(customer.createdTimestamp == 1_712_345_678_901)
        #expect(customer.created == Date(timeIntervalSince1970: 1_712_345_678.901))
        #expect(customer.channels?.count == 2)
        #expect(customer.channels?.first?.identityType == .sms)
        #expect(customer.channels?.last?.identityType == IdentityType(rawValue: "WHATSAPP"))
        #expect(customer.phoneNumbers == ["+15551234567"])
        #expect(customer.tags?.first?.name == "VIP")
        #expect(customer.tags?.first?.json["appliedTimestamp"]?.int64 == 1_712_345_678_901)
        #expect(customer.identities?.first?.type == .sms)
        #expect(customer.contactLists?.first?.name == "Newsletter")
        #expect(customer.contactLists?.first?.externalUrl == nil)
        #expect(customer.globalOptOut == false)
    }

    @Test func customerIsFoundAtTheTopLevelToo() throws {
        let payload = try Event<CustomerAdded>(event("customer-added-top-level.json", kind: .customerAdded)).payload
        #expect(payload.customer?.id == 9_876_543_210_123)
        #expect(payload.customer?.json["orgId"]?.int64 == 12345)
    }

    @Test func optOutCarriesItsTimestampAndDate() throws {
        let customer = try #require(
            try Event<CustomerOptOut>(event("customer-opt-out.json", kind: .customerOptOut)).payload.customer
        )
        #expect(customer.globalOptOut == true)
        #expect(customer.optedOut == Date(timeIntervalSince1970: 1_712_349_999))
        #expect(customer.globalOptOutDate == "2024-04-05T20:46:39Z")
    }

    @Test(arguments: [
        ("message-added.json", EventKind.messageAdded),
        ("message-status.json", .messageStatus),
        ("contact-action.json", .contactAction),
        ("broadcast-status-changed.json", .broadcastStatusChanged),
        ("smartlink-clicked.json", .smartlinkClicked),
        ("unknown-kind.json", "customer/optIn"),
    ])
    func everyKindExposesOrgIDAndKeepsItsJSON(fixture: String, kind: EventKind) throws {
        let event = try event(fixture, kind: kind)
        #expect(event.orgID == 12345)
        #expect(event.kind == kind)
        #expect(try Event<GenericPayload>(event).payload.orgID == 12345)
        #expect(JSONValue.object(event.json) == (try JSONValue(parsing: event.body)))
    }

    @Test func wrongTypesLeaveFieldsNilAndTheEventIntact() throws {
        let event = try event("wrong-types.json", kind: .customerAdded)
        #expect(event.orgID == nil)
        #expect(event.json["orgId"]?.string == "12345")
        let customer = try #require(try Event<CustomerAdded>(event).payload.customer)
        #expect(customer.id == nil)
        #expect(customer.displayName == nil)
        #expect(customer.createdTimestamp == nil)
        #expect(customer.createdDate == nil)
        #expect(customer.userType == nil)
        #expect(customer.channels == nil)
        #expect(customer.tags?.count == 1)
        #expect(customer.tags?.first?.id == nil)
        #expect(customer.globalOptOut == nil)
        #expect(customer.globalOptOutTimestamp == nil)
        #expect(customer.identities == nil)
        #expect(customer.contactLists?.isEmpty == true)
        #expect(customer.json["displayName"]?.int64 == 42)
    }

    @Test func sixtyFourBitIdsAreExact() throws {
        let event = try event("int64-edges.json", kind: .customerAdded)
        #expect(event.orgID == Int64.max)
        let customer = try #require(try Event<CustomerAdded>(event).payload.customer)
        #expect(customer.id == Int64.max - 1)
        #expect(customer.createdTimestamp == Int64.min)
    }

    @Test func integersBeyondSixtyFourBitsAreKeptAsText() throws {
        let event = try event("int64-overflow.json", kind: .customerAdded)
        #expect(event.orgID == nil)
        #expect(event.json["orgId"]?.number?.text == "9223372036854775808")
        #expect(event.json["customer"]?["id"]?.number?.text == "18446744073709551616")
    }

    @Test func unicodeSurvivesEscapesAndRawEmoji() throws {
        let event = try event("unicode.json", kind: .customerAdded)
        #expect(try Event<CustomerAdded>(event).payload.customer?.displayName == "😀 Zoë 😀 é")
    }

    @Test func usersDecodeTheirOwnTypes() throws {
        struct Mine: Decodable, Equatable {
            var orgId: Int64
            var customer: Inner
            struct Inner: Decodable, Equatable {
                var id: Int64
                var displayName: String
            }
        }
        let event = try event("customer-added.json", kind: .customerAdded)
        let mine = try event.decode(Mine.self)
        #expect(mine == Mine(orgId: 12345, customer: .init(id: 9_876_543_210_123, displayName: "Ana María")))
    }

    @Test func openEnumsKeepUnknownValues() {
        #expect(UserType(rawValue: "ROBOT").rawValue == "ROBOT")
        #expect(UserType(rawValue: "TEAM_MEMBER") == .teamMember)
        #expect(IdentityType(rawValue: "LINE") == .line)
    }
}
