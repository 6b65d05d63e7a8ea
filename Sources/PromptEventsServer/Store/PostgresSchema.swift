#if os(Linux)
/// The tables of ``PostgresDeliveryStore`` and their migrations.
///
/// Every instance migrates on start, under a transaction-scoped advisory lock keyed by the
/// schema's name, so instances starting at once take turns: the first creates the tables, the
/// others find them. `schema_version` holds the version reached; a database migrated by a newer
/// binary (a version this one does not know) is refused rather than misread.
struct PostgresSchema {
    /// The migrations, in order: migration `n` (1-based) takes the schema to version `n`.
    static let migrations: [@Sendable (String) -> String] = [
        { schema in
            """
            CREATE SEQUENCE \(schema).delivery_ids INCREMENT BY \(idBlockSize);
            CREATE TABLE \(schema).deliveries (
                id bigint PRIMARY KEY,
                kind text NOT NULL,
                received_at timestamptz NOT NULL,
                method text NOT NULL,
                target text NOT NULL,
                headers text NOT NULL,
                body bytea NOT NULL,
                state text NOT NULL CHECK (state IN ('pending', 'done', 'deadLettered')),
                dead_letter_reason text,
                finished_at timestamptz,
                deduplication_key bytea,
                key_expires_at timestamptz,
                key_counts_when_done boolean NOT NULL,
                lease_owner text,
                lease_expires_at timestamptz
            );
            CREATE INDEX deliveries_pending ON \(schema).deliveries (id) WHERE state = 'pending';
            CREATE INDEX deliveries_finished ON \(schema).deliveries (finished_at) WHERE state <> 'pending';
            CREATE TABLE \(schema).handler_progress (
                delivery_id bigint NOT NULL REFERENCES \(schema).deliveries (id) ON DELETE CASCADE,
                handler text NOT NULL,
                status text NOT NULL CHECK (status IN ('succeeded', 'failed', 'deadLettered')),
                attempts integer NOT NULL,
                last_error text,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (delivery_id, handler)
            );
            CREATE TABLE \(schema).deduplication_keys (
                key bytea PRIMARY KEY,
                delivery_id bigint NOT NULL,
                expires_at timestamptz NOT NULL
            );
            """
        }
    ]

    /// How many delivery ids an instance reserves at once: each `nextval` of the sequence is the
    /// first of a block of this many.
    static let idBlockSize: UInt64 = 128

    /// The version this binary migrates to.
    static var currentVersion: Int { migrations.count }

    /// The schema's name, checked to be a plain lower-case SQL identifier (it is interpolated).
    let name: String

    /// Checks a schema name.
    ///
    /// - Throws: ``PostgresError/Code/invalidConfiguration`` unless it is `[a-z_][a-z0-9_]*`, at
    ///   most 63 bytes.
    init(_ name: String) throws(PostgresError) {
        let bytes = Array(name.utf8)
        let isLetter = { (byte: UInt8) in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_")
        }
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        let valid =
            bytes.count <= 63 && bytes.first.map(isLetter) == true && bytes.allSatisfy { isLetter($0) || isDigit($0) }
        guard valid else {
            throw PostgresError(
                .invalidConfiguration,
                "the schema name \"\(name)\" must be lower-case letters, digits and _, not starting with a digit"
            )
        }
        self.name = name
    }

    /// Checks that the schema exists at this binary's version, changing nothing.
    ///
    /// - Throws: ``PostgresError/Code/invalidConfiguration`` naming what is missing or different.
    func check(_ connection: PostgresConnection) throws(PostgresError) {
        let exists = try connection.rows(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_version'",
            [.text(name)]
        )
        guard try exists.first?.int64(0) == 1 else {
            throw PostgresError(
                .invalidConfiguration,
                "there is no prompt-listen schema \(name) in this database (a listener with this --store and "
                    + "--store-schema creates it)"
            )
        }
        let rows = try connection.rows("SELECT coalesce(max(version), 0) FROM \(name).schema_version")
        let found = Int(try rows.first?.int32(0) ?? 0)
        guard found == Self.currentVersion else {
            throw PostgresError(
                .invalidConfiguration,
                "the schema \(name) is at version \(found), this prompt-listen reads version \(Self.currentVersion)"
            )
        }
    }

    /// Creates or migrates the schema; returns the version it was at before.
    ///
    /// - Throws: ``PostgresError``, also when the database holds a newer version than this binary knows.
    @discardableResult
    func migrate(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.execute(script: "BEGIN")
        do throws(PostgresError) {
            // hashtext of the schema name: instances sharing a schema share the lock.
            _ = try connection.rows("SELECT pg_advisory_xact_lock(hashtext($1))", [.text("prompt_events:" + name)])
            try connection.execute(
                script: """
                    CREATE SCHEMA IF NOT EXISTS \(name);
                    CREATE TABLE IF NOT EXISTS \(name).schema_version (version integer NOT NULL)
                    """
            )
            let rows = try connection.rows("SELECT coalesce(max(version), 0) FROM \(name).schema_version")
            let found = Int(try rows.first?.int32(0) ?? 0)
            guard found <= Self.currentVersion else {
                throw PostgresError(
                    .invalidConfiguration,
                    "the schema \(name) is at version \(found), newer than this prompt-listen knows "
                        + "(\(Self.currentVersion)): upgrade prompt-listen"
                )
            }
            for version in (found + 1)..<(Self.currentVersion + 1) {
                try connection.execute(script: Self.migrations[version - 1](name))
                _ = try connection.rows("INSERT INTO \(name).schema_version VALUES ($1)", [.int32(Int32(version))])
            }
            try connection.execute(script: "COMMIT")
            return found
        } catch {
            if !connection.isBroken { try? connection.execute(script: "ROLLBACK") }
            throw error
        }
    }
}
#endif
