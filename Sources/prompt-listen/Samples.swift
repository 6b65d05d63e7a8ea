import PromptEvents

/// Built-in payloads for `prompt-listen send`, one per known kind.
///
/// They are **synthetic**: Prompt.io documents only `orgId` and the customer model, so these
/// follow the documented shapes where there are some and are invented elsewhere. Requests
/// carrying them are marked with a `Prompt-Listen-Sample: synthetic` header.
enum Samples {
    static let customer = """
        {"id":9876543210123,"displayName":"Ana María","createdTimestamp":1712345678901,\
        "createdDate":"2024-04-05T19:34:38.901Z","userType":"CUSTOMER",\
        "channels":[{"identityType":"SMS","key":"+15551234567"}],\
        "tags":[{"id":17,"name":"VIP","apiId":"vip","type":"MANUAL","appliedTimestamp":1712345678901,\
        "appliedDate":"2024-04-05T19:34:38.901Z"}],\
        "globalOptOut":false,"identities":[{"type":"SMS","key":"+15551234567"}],\
        "contactLists":[{"id":3,"name":"Newsletter","apiId":"newsletter","type":"PROMPT"}]}
        """

    static func payload(for kind: EventKind) -> String {
        switch kind {
        case .customerAdded:
            return #"{"orgId":12345,"customer":\#(customer)}"#
        case .customerOptOut:
            return
                #"{"orgId":12345,"customer":\#(customer.replacingFirst("\"globalOptOut\":false", with: "\"globalOptOut\":true,\"globalOptOutTimestamp\":1712349999000,\"globalOptOutDate\":\"2024-04-05T20:46:39Z\""))}"#
        case .messageAdded:
            return
                #"{"orgId":12345,"message":{"id":555001,"text":"Yes, see you at 3pm 👍","direction":"INBOUND"},"customer":\#(customer)}"#
        case .messageStatus:
            return #"{"orgId":12345,"message":{"id":555002,"status":"DELIVERED"}}"#
        case .contactAction:
            return #"{"orgId":12345,"action":"REPLIED","customer":\#(customer)}"#
        case .broadcastStatusChanged:
            return #"{"orgId":12345,"broadcast":{"id":778,"name":"Spring sale","status":"COMPLETED"}}"#
        case .smartlinkClicked:
            return #"{"orgId":12345,"smartlink":{"id":4242,"url":"https://example.com/offer"},"customer":\#(customer)}"#
        default:
            return #"{"orgId":12345}"#
        }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
