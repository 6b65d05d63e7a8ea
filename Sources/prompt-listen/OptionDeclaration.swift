/// One option, declared once: its name, placeholder and help (the table ``CommandSpec`` parses
/// and renders), and how a value given for it lands in the command's options.
///
/// The help line's default is rendered from the options' own default value, so the help cannot
/// drift from what the command does (swift-argument-parser's one declaration per option).
struct OptionDeclaration<Options> {
    private(set) var spec: OptionSpec
    /// The environment variable read when the option is not given, if any.
    var environment: String?
    /// Throws ``UsageError`` for a value it cannot take.
    let apply: (inout Options, String) throws -> Void

    /// An option whose help says its own default (or none).
    init(
        _ name: String,
        _ placeholder: String?,
        help: String,
        repeatable: Bool = false,
        environment: String? = nil,
        apply: @escaping (inout Options, String) throws -> Void
    ) {
        self.spec = OptionSpec(name: name, value: placeholder, help: help, repeatable: repeatable)
        self.environment = environment
        self.apply = apply
    }

    private init(spec: OptionSpec, environment: String?, apply: @escaping (inout Options, String) throws -> Void) {
        self.spec = spec
        self.environment = environment
        self.apply = apply
    }

    /// The same option, landing in the `path` part of a larger set of options.
    func lifted<Parent>(_ path: WritableKeyPath<Parent, Options>) -> OptionDeclaration<Parent> {
        let apply = self.apply
        return OptionDeclaration<Parent>(spec: spec, environment: environment) { parent, value in
            try apply(&parent[keyPath: path], value)
        }
    }

    /// `help (default: D).`, with `D` the default's description.
    static func withDefault(_ help: String, _ value: some CustomStringConvertible) -> String {
        "\(help) (default: \(value))."
    }

    /// A value stored as given.
    static func text(
        _ name: String,
        _ placeholder: String,
        help: String,
        _ path: WritableKeyPath<Options, String>,
        defaults: Options
    ) -> Self {
        Self(name, placeholder, help: withDefault(help, defaults[keyPath: path])) { options, value in
            options[keyPath: path] = value
        }
    }

    /// An integer within `range`.
    static func integer(
        _ name: String,
        _ placeholder: String,
        help: String,
        _ path: WritableKeyPath<Options, Int>,
        in range: ClosedRange<Int>,
        defaults: Options
    ) -> Self {
        Self(name, placeholder, help: withDefault(help, defaults[keyPath: path])) { options, value in
            options[keyPath: path] = try parseInteger(value, "--\(name)", in: range)
        }
    }

    /// Whole seconds within `range`.
    static func seconds(
        _ name: String,
        help: String,
        _ path: WritableKeyPath<Options, Duration>,
        in range: ClosedRange<Int>,
        defaults: Options
    ) -> Self {
        Self(name, "SECONDS", help: withDefault(help, defaults[keyPath: path].components.seconds)) { options, value in
            options[keyPath: path] = .seconds(try parseInteger(value, "--\(name)", in: range))
        }
    }

    /// One of a fixed set of words; `help` names them and the default.
    static func choice<Value>(
        _ name: String,
        _ placeholder: String,
        help: String,
        _ path: WritableKeyPath<Options, Value>,
        _ choices: KeyValuePairs<String, Value>
    ) -> Self {
        var declaration = Self(name, placeholder, help: help) { options, value in
            guard let chosen = choices.first(where: { $0.key == value })?.value else {
                let names = choices.map(\.key)
                let list = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
                throw UsageError(message: "--\(name) must be \(list); got '\(value)'.")
            }
            options[keyPath: path] = chosen
        }
        declaration.spec.choices = choices.map(\.key)
        return declaration
    }

    /// Applies every declaration to `options`: the values given (each value of a repeatable
    /// option, in order; `""` for a flag), else the environment variable.
    static func apply(
        _ declarations: [Self],
        _ arguments: ParsedArguments,
        environment: [String: String],
        to options: inout Options
    ) throws(UsageError) {
        for declaration in declarations {
            let name = declaration.spec.name
            var values = declaration.spec.value == nil ? (arguments.flag(name) ? [""] : []) : arguments.all(name)
            if values.isEmpty, let variable = declaration.environment, let value = environment[variable] {
                values = [value]
            }
            for value in values {
                do {
                    try declaration.apply(&options, value)
                } catch let error as UsageError {
                    throw error
                } catch {
                    throw UsageError(message: "--\(name): \(error)")
                }
            }
        }
    }
}

/// An integer within `range`, or a usage error naming the option.
func parseInteger(_ text: String, _ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int {
    guard let value = Int(text), range.contains(value) else {
        throw UsageError(
            message: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound); got '\(text)'."
        )
    }
    return value
}
