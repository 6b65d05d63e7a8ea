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
        if url == nil, arguments.value("store-schema") != nil {
            throw UsageError(message: "--store-schema needs --store (or $\(Self.variable)).")
        }
    }

    /// The listener's store location.
    var location: WebhookListener.Configuration.StoreLocation {
        url.map { .postgres($0, schema: schema) } ?? .journal
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
        return try PostgresDeliveryStore(configuration: configuration)
    }
}
