/// A handler's failure: which handler, for which kind, and why.
public struct HandlerError: Error, Sendable, CustomStringConvertible {
    /// The failing handler's name.
    public var handlerName: String
    /// The kind of the event it was handling.
    public var kind: EventKind
    /// What the handler threw, if it threw.
    public var underlying: (any Error)?
    /// One sentence for logs.
    public var message: String

    /// Creates a failure from a thrown error.
    ///
    /// - Parameters:
    ///   - handlerName: The handler's name.
    ///   - kind: The event kind.
    ///   - underlying: What the handler threw.
    public init(handlerName: String, kind: EventKind, underlying: any Error) {
        self.handlerName = handlerName
        self.kind = kind
        self.underlying = underlying
        self.message = "\(underlying)"
    }

    /// Creates a failure with a message.
    ///
    /// - Parameters:
    ///   - handlerName: The handler's name.
    ///   - kind: The event kind.
    ///   - message: What went wrong.
    public init(handlerName: String, kind: EventKind, message: String) {
        self.handlerName = handlerName
        self.kind = kind
        self.underlying = nil
        self.message = message
    }

    /// `handler 'NAME' for KIND failed: MESSAGE`.
    public var description: String { "handler '\(handlerName)' for \(kind) failed: \(message)" }
}

/// How one handler fared with one event.
public struct HandlerOutcome: Sendable {
    /// The handler's name.
    public var name: String
    /// The event's kind.
    public var kind: EventKind
    /// The failure, or `nil` on success.
    public var error: HandlerError?

    /// Whether the handler succeeded.
    public var succeeded: Bool { error == nil }
}

/// The outcomes of dispatching one event.
public struct DispatchReport: Sendable {
    /// One outcome per matching handler, in the order they ran.
    public var outcomes: [HandlerOutcome]

    /// Whether every handler succeeded (also `true` when none matched).
    public var succeeded: Bool { outcomes.allSatisfy(\.succeeded) }
}
