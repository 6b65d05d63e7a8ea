import PromptEventsServer

/// Where deliveries are kept, as the command line says: the journal directory (`--journal`,
/// the default) or a PostgreSQL store shared by several instances (`--store URL`, or
/// `$PROMPT_LISTEN_STORE`, with `--store-schema`).
///
/// `serve`, `replay` and `journal` read the same options, so the inspection commands find the
/// deliveries wherever the listener keeps them.
struct StoreSelection {
    var journalDirectory = WebhookListener.Configuration().journalDirectory
    var url: PostgresURL?
    var schema = "prompt_events"
    var lease = PostgresDeliveryStore.Configuration.defaultLease

    /// The environment variable that stands for `--store`.
    static let variable = "PROMPT_LISTEN_STORE"

    /// `--journal`, `--store` and `--store-schema`, declared once for every command.
    static var declarations: [OptionDeclaration<StoreSelection>] {
        let defaults = StoreSelection()
        return [
            .text("journal", "DIR", help: "Journal directory", \.journalDirectory, defaults: defaults),
            OptionDeclaration(
                "store",
                "URL",
                help: "PostgreSQL store URL (also $PROMPT_LISTEN_STORE).",
                environment: variable
            ) { selection, value in
                do throws(PostgresError) {
                    selection.url = try PostgresURL(value)
                } catch {
                    throw UsageError(message: "--store: \(error.message)")
                }
            },
            .text("store-schema", "NAME", help: "Schema of the PostgreSQL store", \.schema, defaults: defaults),
            .seconds(
                "lease",
                help: "Lease of a PostgreSQL store's pending work",
                \.lease,
                in: 2...3600,
                defaults: defaults
            ),
        ]
    }

    /// The selection the arguments make; two stores named at once are refused.
    static func parse(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> StoreSelection
    {
        var selection = StoreSelection()
        try OptionDeclaration.apply(declarations, arguments, environment: environment, to: &selection)
        try selection.validate(arguments)
        return selection
    }

    /// Refuses two stores named at once, and a schema without a store.
    func validate(_ arguments: ParsedArguments) throws(UsageError) {
        if url != nil, arguments.value("journal") != nil {
            throw UsageError(message: "--journal and --store name two stores; give one.")
        }
        for name in ["store-schema", "lease"] where url == nil && arguments.value(name) != nil {
            throw UsageError(message: "--\(name) needs --store (or $\(Self.variable)).")
        }
    }

    /// A warning when the password is in a `--store` URL on the command line, which every user
    /// of the machine can read in the process list.
    static func warning(_ arguments: ParsedArguments) -> String? {
        guard let text = arguments.value("store"), (try? PostgresURL(text, environment: [:]))?.hasPassword == true
        else {
            return nil
        }
        return "the --store URL's password is visible in the process list; put it in PGPASSWORD or ~/.pgpass, "
            + "or the whole URL in \(variable)."
    }

    /// The listener's store location.
    var location: WebhookListener.Configuration.StoreLocation {
        url.map { .postgres($0, schema: schema, lease: lease) } ?? .journal
    }

    /// What error messages call the store.
    var name: String { url.map { "\($0) (schema \(schema))" } ?? journalDirectory }

    /// Opens the store for inspection (`readOnly`) or maintenance and replay.
    ///
    /// - Throws: ``JournalError`` or ``PostgresError``.
    func open(readOnly: Bool) throws -> any DeliveryStore {
        guard let url else {
            return try Journal.open(at: journalDirectory, access: readOnly ? .readOnly : .readWrite)
        }
        var configuration = PostgresDeliveryStore.Configuration(url: url)
        configuration.schema = schema
        configuration.lease = lease
        // Inspecting must not create an empty schema for a mistyped name; replay runs a store
        // a listener made.
        configuration.migrates = false
        return try PostgresDeliveryStore(configuration: configuration)
    }
}
