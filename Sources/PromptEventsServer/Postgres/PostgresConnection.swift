#if os(Linux)
import Glibc

/// One connection to PostgreSQL, blocking: the protocol of ``PostgresFrontend`` and
/// ``PostgresMessageParser`` over a socket of ``Socket``.
///
/// Not thread-safe: one thread uses a connection at a time (``PostgresDeliveryStore`` keeps each
/// behind a lock, hence `@unchecked Sendable`). Every wait is bounded by ``timeout``; a timeout or an I/O error breaks the
/// connection (``isBroken``), and its owner connects again.
///
/// Statements go through the extended query protocol, each prepared once per connection under a
/// name and then only bound and executed; ``run(_:)`` pipelines several statements and one
/// `Sync` in one write, so a batch costs one round trip.
final class PostgresConnection: @unchecked Sendable {
    /// A statement and its parameters (`$1`, `$2`, …).
    struct Statement {
        let sql: String
        let parameters: [PostgresValue]

        init(_ sql: String, _ parameters: [PostgresValue] = []) {
            self.sql = sql
            self.parameters = parameters
        }
    }

    /// What one statement returned.
    struct Result {
        var rows: [PostgresRow] = []
        /// The command tag, for example `INSERT 0 1` or `COMMIT` (`ROLLBACK` for a `COMMIT` of a
        /// failed transaction).
        var tag = ""
    }

    private var fd: Int32
    private var parser = PostgresMessageParser()
    private var output: [UInt8] = []
    private var preparedNames: [String: String] = [:]
    private var statementCounter = 0
    private let timeout: Duration
    private let describedAs: String
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Whether the connection must be thrown away: an I/O error, a timeout or a fatal server error.
    private(set) var isBroken = false

    /// The server's `server_version` parameter.
    private(set) var serverVersion = ""

    private init(fd: Int32, timeout: Duration, describedAs: String) {
        self.fd = fd
        self.timeout = timeout
        self.describedAs = describedAs
    }

    deinit { close() }

    /// Connects, signs in and waits until the server is ready for queries.
    ///
    /// - Parameters:
    ///   - url: Where the server is and who signs in.
    ///   - timeout: The bound on connecting and on each later exchange.
    ///   - parameters: Run-time settings sent in the startup packet (for example `statement_timeout`).
    /// - Returns: A connection ready for statements.
    /// - Throws: ``PostgresError``: ``PostgresError/Code/connection`` when the server cannot be
    ///   reached, ``PostgresError/Code/authentication`` when it refuses the credentials or asks
    ///   for cleartext or MD5 passwords.
    static func connect(
        to url: PostgresURL,
        timeout: Duration,
        parameters: [(String, String)] = []
    ) throws(PostgresError) -> PostgresConnection {
        let deadline = monotonicNanoseconds() &+ timeout.nanoseconds
        let fd: Int32
        do {
            switch url.endpoint {
            case .tcp(let host, let port):
                fd = try Socket.connect(to: try SocketAddress.resolve(host: host, port: port))
            case .unixSocket(let directory, let port):
                fd = try Socket.connect(unixPath: "\(directory)/.s.PGSQL.\(port)")
            }
        } catch {
            throw PostgresError(.connection, "cannot connect to \(url): \(error)")
        }
        let connection = PostgresConnection(fd: fd, timeout: timeout, describedAs: url.description)
        try connection.wait(writing: true, deadline: deadline)
        let pending = Socket.pendingError(fd)
        guard pending == 0 else {
            connection.close()
            throw PostgresError(.connection, "cannot connect to \(url): \(String(cString: strerror(pending)))")
        }
        try connection.signIn(url: url, parameters: parameters, deadline: deadline)
        return connection
    }

    private func signIn(url: PostgresURL, parameters: [(String, String)], deadline: UInt64) throws(PostgresError) {
        PostgresFrontend.startup(
            user: url.user,
            database: url.database,
            parameters: [("client_encoding", "UTF8"), ("application_name", "prompt-listen")] + parameters,
            into: &output
        )
        try flush(deadline: deadline)
        var scram: SCRAMSHA256Client?
        while true {
            switch try receive(deadline: deadline) {
            case .authentication(.ok):
                // A server that began SCRAM must have proved it knows the password first.
                if let client = scram, !client.isFinished {
                    throw refuse("the server skipped the proof of SCRAM-SHA-256's last step")
                }
            case .authentication(.sasl(let mechanisms)):
                guard mechanisms.contains("SCRAM-SHA-256") else {
                    throw refuse("the server offers SASL \(mechanisms.joined(separator: ", ")), not SCRAM-SHA-256")
                }
                guard let password = url.password else {
                    throw refuse(
                        "the server asks for a password and none was given (in the URL, PGPASSWORD or ~/.pgpass)"
                    )
                }
                let client = SCRAMSHA256Client(password: password, nonce: SCRAMSHA256Client.randomNonce())
                PostgresFrontend.saslInitialResponse(
                    mechanism: "SCRAM-SHA-256",
                    data: client.clientFirstMessage,
                    into: &output
                )
                scram = client
                try flush(deadline: deadline)
            case .authentication(.saslContinue(let data)):
                guard var client = scram else { throw refuse("the server continued a SASL exchange never begun") }
                do {
                    let final = try client.receiveServerFirst(data)
                    scram = client
                    PostgresFrontend.saslResponse(data: final, into: &output)
                } catch {
                    throw refuse("SCRAM-SHA-256: \(error)")
                }
                try flush(deadline: deadline)
            case .authentication(.saslFinal(let data)):
                guard var client = scram else { throw refuse("the server finished a SASL exchange never begun") }
                do {
                    try client.receiveServerFinal(data)
                    scram = client
                } catch {
                    throw refuse("SCRAM-SHA-256: the server did not prove it knows the password (\(error))")
                }
            case .authentication(.cleartextPassword):
                throw refuse("the server asks for a cleartext password; use scram-sha-256 in pg_hba.conf")
            case .authentication(.md5Password):
                throw refuse("the server asks for an MD5 password; use scram-sha-256 in pg_hba.conf")
            case .authentication(.unsupported(let code)):
                throw refuse("the server asks for authentication method \(code), which this client does not support")
            case .parameterStatus(let name, let value):
                if name == "server_version" { serverVersion = value }
            case .readyForQuery:
                return
            case .error(let fields):
                isBroken = true
                throw PostgresError(serverFields: fields)
            case .backendKeyData, .notice, .notification:
                continue
            case let other:
                throw breaking(.protocolViolation("\(other) during startup"))
            }
        }
    }

    private func refuse(_ why: String) -> PostgresError {
        close()
        return PostgresError(.authentication, "\(describedAs) refused the sign-in: \(why)")
    }

    /// Runs statements in one round trip, in one implicit transaction unless they manage their
    /// own (`BEGIN` … `COMMIT`).
    ///
    /// - Parameter statements: The statements, in order.
    /// - Returns: Each statement's rows and command tag, in order.
    /// - Throws: The first statement's ``PostgresError/Code/server`` error (the rest did not run;
    ///   the connection stays usable), or a connection error (the connection is broken).
    func run(_ statements: [Statement]) throws(PostgresError) -> [Result] {
        guard !isBroken, fd >= 0 else { throw PostgresError(.closed, "the connection to \(describedAs) is closed") }
        // Statements parsed by this batch, in order: each is prepared once its ParseComplete arrives.
        var parsing: [(sql: String, name: String)] = []
        for statement in statements {
            let name: String
            if let prepared = preparedNames[statement.sql] ?? parsing.first(where: { $0.sql == statement.sql })?.name {
                name = prepared
            } else {
                statementCounter += 1
                name = "pe\(statementCounter)"
                PostgresFrontend.parse(
                    statement: name,
                    sql: statement.sql,
                    parameterTypes: statement.parameters.map(\.type),
                    into: &output
                )
                parsing.append((statement.sql, name))
            }
            PostgresFrontend.bind(statement: name, parameters: statement.parameters, into: &output)
            PostgresFrontend.execute(into: &output)
        }
        PostgresFrontend.sync(into: &output)
        let deadline = monotonicNanoseconds() &+ timeout.nanoseconds
        try flush(deadline: deadline)

        var results: [Result] = []
        var current = Result()
        var failure: PostgresError?
        var parsed = 0
        while true {
            switch try receive(deadline: deadline) {
            case .parseComplete:
                guard parsed < parsing.count else { throw breaking(.protocolViolation("a surplus ParseComplete")) }
                preparedNames[parsing[parsed].sql] = parsing[parsed].name
                parsed += 1
            case .bindComplete, .noData, .parameterDescription, .rowDescription, .notice, .notification,
                .parameterStatus:
                continue
            case .dataRow(let columns):
                current.rows.append(PostgresRow(columns: columns))
            case .commandComplete(let tag):
                current.tag = tag
                results.append(current)
                current = Result()
            case .emptyQuery:
                results.append(current)
                current = Result()
            case .error(let fields):
                failure = failure ?? serverError(fields)
            case .readyForQuery:
                if let failure { throw failure }
                guard results.count == statements.count else {
                    throw breaking(.protocolViolation("\(results.count) results for \(statements.count) statements"))
                }
                return results
            case let other:
                throw breaking(.protocolViolation("an unexpected \(other)"))
            }
        }
    }

    /// Runs one statement and returns its rows.
    func rows(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> [PostgresRow] {
        try run([Statement(sql, parameters)])[0].rows
    }

    /// Runs statements without parameters through the simple query protocol (DDL, several
    /// statements separated by `;`).
    func execute(script sql: String) throws(PostgresError) {
        guard !isBroken, fd >= 0 else { throw PostgresError(.closed, "the connection to \(describedAs) is closed") }
        PostgresFrontend.query(sql, into: &output)
        let deadline = monotonicNanoseconds() &+ timeout.nanoseconds
        try flush(deadline: deadline)
        var failure: PostgresError?
        while true {
            switch try receive(deadline: deadline) {
            case .error(let fields):
                failure = failure ?? serverError(fields)
            case .readyForQuery:
                if let failure { throw failure }
                return
            default:
                continue
            }
        }
    }

    /// Says goodbye and closes the socket.
    func close() {
        guard fd >= 0 else { return }
        if !isBroken {
            var goodbye: [UInt8] = []
            PostgresFrontend.terminate(into: &goodbye)
            _ = goodbye.withUnsafeBytes { Socket.send(fd, $0) }
        }
        Socket.close(fd)
        fd = -1
        isBroken = true
    }

    // MARK: I/O

    /// An `ErrorResponse` as an error; a fatal one (the server shutting down) marks the
    /// connection broken.
    private func serverError(_ fields: [UInt8: String]) -> PostgresError {
        let error = PostgresError(serverFields: fields)
        if error.breaksConnection { isBroken = true }
        return error
    }

    private func breaking(_ error: PostgresError) -> PostgresError {
        isBroken = true
        close()
        return error
    }

    private func flush(deadline: UInt64) throws(PostgresError) {
        var offset = 0
        defer { output.removeAll(keepingCapacity: true) }
        while offset < output.count {
            let result = output.withUnsafeBytes { Socket.send(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch result {
            case .bytes(let count): offset += count
            case .wouldBlock: try wait(writing: true, deadline: deadline)
            case .endOfFile, .failed:
                throw breaking(PostgresError(.connection, "the connection to \(describedAs) broke while sending"))
            }
        }
    }

    private func receive(deadline: UInt64) throws(PostgresError) -> PostgresBackendMessage {
        while true {
            do {
                if let message = try parser.next() { return message }
            } catch {
                throw breaking(error)
            }
            let result = readBuffer.withUnsafeMutableBytes { Socket.read(fd, into: $0) }
            switch result {
            case .bytes(let count):
                readBuffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            case .wouldBlock:
                try wait(writing: false, deadline: deadline)
            case .endOfFile, .failed:
                throw breaking(PostgresError(.connection, "the connection to \(describedAs) was closed by the server"))
            }
        }
    }

    private func wait(writing: Bool, deadline: UInt64) throws(PostgresError) {
        let now = monotonicNanoseconds()
        let remaining = deadline > now ? deadline - now : 0
        guard remaining > 0,
            Socket.wait(fd, forWriting: writing, timeoutMilliseconds: Int32(min(remaining / 1_000_000 + 1, 60_000)))
        else {
            throw breaking(PostgresError(.timedOut, "\(describedAs) did not answer within \(timeout)"))
        }
    }
}
#endif
