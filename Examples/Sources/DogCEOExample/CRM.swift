public import Foundation
public import PromptEvents

/// One avatar given to one customer.
public struct AvatarUpdate: Sendable, Hashable {
    /// The Prompt.io organization the customer belongs to (`orgId`).
    public var organizationID: Int64?
    /// The customer, as Prompt.io sent it.
    public var customer: Customer
    /// The new avatar.
    public var picture: URL

    /// Creates an update.
    ///
    /// - Parameters:
    ///   - organizationID: The customer's organization.
    ///   - customer: The customer.
    ///   - picture: The new avatar.
    public init(organizationID: Int64?, customer: Customer, picture: URL) {
        self.organizationID = organizationID
        self.customer = customer
        self.picture = picture
    }
}

/// An external CRM, reduced to what this example needs: setting a customer's avatar.
///
/// Implement it with your CRM's API client; throwing makes the listener retry the event later.
public protocol CRM: Sendable {
    /// Sets a customer's avatar.
    ///
    /// - Parameter update: The customer and the picture.
    /// - Throws: When the CRM cannot be updated now; the attempt is retried.
    func setAvatar(_ update: AvatarUpdate) async throws
}

/// A CRM that only remembers the updates, for tests and demos.
public actor InMemoryCRM: CRM {
    /// Every update received, in order.
    public private(set) var updates: [AvatarUpdate] = []

    /// Creates an empty CRM.
    public init() {}

    /// Records the update.
    ///
    /// - Parameter update: The customer and the picture.
    public func setAvatar(_ update: AvatarUpdate) {
        updates.append(update)
    }
}

/// A CRM that prints each update, for running the example by hand.
public struct PrintingCRM: CRM {
    /// Creates the CRM.
    public init() {}

    /// Prints the update.
    ///
    /// - Parameter update: The customer and the picture.
    public func setAvatar(_ update: AvatarUpdate) {
        let who = update.customer.displayName ?? update.customer.id.map { "customer \($0)" } ?? "a customer"
        let organization = update.organizationID.map(String.init) ?? "?"
        print("CRM: avatar of \(who) (org \(organization)) set to \(update.picture.absoluteString)")
    }
}
