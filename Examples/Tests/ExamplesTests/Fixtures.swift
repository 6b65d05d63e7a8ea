import PromptEvents

/// Event bodies and secrets shared by the tests, shaped like Prompt.io's.
enum Fixtures {
    static let secret = Secret("examples-test-secret")
    static let wrongSecret = Secret("not-the-secret")

    static func messageAdded(orgID: Int64, text: String) -> String {
        #"{"orgId":\#(orgID),"message":{"id":555001,"text":"\#(text)"}}"#
    }

    static func customerOptOut(orgID: Int64, phone: String) -> String {
        #"{"orgId":\#(orgID),"customer":{"id":77,"channels":[{"identityType":"SMS","key":"\#(phone)"}]}}"#
    }

    static func customerAdded(orgID: Int64, customerID: Int64, name: String) -> String {
        #"""
        {"orgId":\#(orgID),"customer":{"id":\#(customerID),"displayName":"\#(name)","userType":"CUSTOMER",\#
        "channels":[{"identityType":"SMS","key":"+15551234567"}],"globalOptOut":false}}
        """#
    }
}
