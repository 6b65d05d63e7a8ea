/// An error from the journal: why an operation failed, in words safe to log.
///
/// Match on ``code``; read ``message`` for the details (paths, `errno` explanations). Messages
/// never contain header values or body bytes.
public struct JournalError: Error, Hashable, Sendable {
    /// A stable classification of journal failures.
    public struct Code: Hashable, Sendable {
        fileprivate enum Kind: Hashable, Sendable {
            case locked
            case readOnly
            case full
            case io
            case syncFailed
            case closed
            case invalidArgument
            case notFound
            case unsupportedFormat
        }

        fileprivate let kind: Kind

        /// Another process (or another `Journal` in this one) has the journal open for writing.
        public static let locked = Code(kind: .locked)
        /// A mutating operation was called on a journal opened with ``Journal/AccessMode/readOnly``.
        public static let readOnly = Code(kind: .readOnly)
        /// Appending would exceed ``Journal/Configuration/maximumSize``; answer 503 and retry later.
        public static let full = Code(kind: .full)
        /// A file-system call failed (for example `ENOSPC` or `EIO`); see ``JournalError/errno``.
        public static let io = Code(kind: .io)
        /// A sync failed; the deliveries in ``JournalError/notDurable`` are not on disk and must not
        /// be acknowledged.
        public static let syncFailed = Code(kind: .syncFailed)
        /// The journal was closed.
        public static let closed = Code(kind: .closed)
        /// An argument was rejected, for example a de-duplication key longer than 64 bytes.
        public static let invalidArgument = Code(kind: .invalidArgument)
        /// The journal directory, or a requested record, does not exist.
        public static let notFound = Code(kind: .notFound)
        /// A segment was written by an unknown version of the journal format.
        public static let unsupportedFormat = Code(kind: .unsupportedFormat)
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation for logs.
    public var message: String
    /// The `errno` of the failed system call, for ``Code/io`` and ``Code/syncFailed``.
    public var errno: Int32?
    /// For ``Code/syncFailed``: the ids of the deliveries that are not durable, in increasing order.
    ///
    /// Answer these deliveries with a 5xx: they were not acknowledged and are no longer in the
    /// journal's index (a retry by the sender is accepted as new).
    public var notDurable: [UInt64]

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The classification.
    ///   - message: The explanation.
    ///   - errno: The system error number, if a system call failed.
    ///   - notDurable: The deliveries a failed sync did not make durable.
    public init(_ code: Code, _ message: String, errno: Int32? = nil, notDurable: [UInt64] = []) {
        self.code = code
        self.message = message
        self.errno = errno
        self.notDurable = notDurable
    }

    /// Wraps a file-system failure.
    init(_ error: FileSystemError, code: Code = .io, context: String) {
        self.init(code, "\(context): \(error)", errno: error.errno)
    }
}

extension JournalError: CustomStringConvertible {
    /// The code followed by the message.
    public var description: String { "\(code): \(message)" }
}

extension JournalError.Code: CustomStringConvertible {
    /// A short phrase naming the code, for example `journal full`.
    public var description: String {
        switch kind {
        case .locked: "journal locked"
        case .readOnly: "journal read-only"
        case .full: "journal full"
        case .io: "journal I/O error"
        case .syncFailed: "journal sync failed"
        case .closed: "journal closed"
        case .invalidArgument: "invalid argument"
        case .notFound: "not found"
        case .unsupportedFormat: "unsupported journal format"
        }
    }
}
