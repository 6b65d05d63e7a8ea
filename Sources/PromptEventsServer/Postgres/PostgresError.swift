/// An error from PostgreSQL or from talking to it, in words safe to log: never a password.
///
/// Match on ``code``; a server error also carries its ``sqlState`` (for example `23505`, a
/// unique violation) and the server's ``detail``.
public struct PostgresError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable classification.
    public struct Code: Hashable, Sendable {
        fileprivate enum Kind: Hashable, Sendable {
            case invalidConfiguration, connection, authentication, server, protocolViolation, timedOut,
                closed
        }

        fileprivate let kind: Kind

        /// The URL or a setting is wrong, or the database holds a schema this binary cannot use.
        public static let invalidConfiguration = Code(kind: .invalidConfiguration)
        /// Connecting failed, or the connection broke; the store reconnects on its next use.
        public static let connection = Code(kind: .connection)
        /// The server refused the credentials, or asked for a method this client refuses.
        public static let authentication = Code(kind: .authentication)
        /// The server answered with an `ErrorResponse`; see ``PostgresError/sqlState``.
        public static let server = Code(kind: .server)
        /// The server sent something this client cannot read.
        public static let protocolViolation = Code(kind: .protocolViolation)
        /// The server did not answer within the statement timeout.
        public static let timedOut = Code(kind: .timedOut)
        /// The connection or store was closed.
        public static let closed = Code(kind: .closed)
    }

    /// What went wrong.
    public var code: Code
    /// The explanation; for a server error, the server's message.
    public var message: String
    /// The SQLSTATE of a server error, for example `23505`.
    public var sqlState: String?
    /// The server's detail line, when it sent one.
    public var detail: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The classification.
    ///   - message: The explanation.
    ///   - sqlState: The SQLSTATE of a server error.
    ///   - detail: The server's detail.
    public init(_ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
    }

    /// An `ErrorResponse`'s fields as an error.
    init(serverFields fields: [UInt8: String]) {
        let sqlState = fields[UInt8(ascii: "C")]
        // 28P01 invalid_password, 28000 invalid_authorization_specification.
        let code: Code = sqlState?.hasPrefix("28") == true ? .authentication : .server
        self.init(
            code,
            fields[UInt8(ascii: "M")] ?? "unknown server error",
            sqlState: sqlState,
            detail: fields[UInt8(ascii: "D")]
        )
    }

    static func protocolViolation(_ message: String) -> PostgresError {
        PostgresError(.protocolViolation, message)
    }

    /// Whether the connection cannot be used after this error (anything but an ordinary
    /// statement error: the server shutting down, `57P01`, and class `08` included).
    var breaksConnection: Bool {
        guard code == .server, let sqlState else { return true }
        return sqlState.hasPrefix("57P") || sqlState.hasPrefix("08")
    }

    /// `PostgreSQL error 23505: duplicate key value … (detail: …)`.
    public var description: String {
        var text = sqlState.map { "PostgreSQL error \($0): \(message)" } ?? message
        if let detail { text += " (\(detail))" }
        return text
    }
}
