/// How a request's event kind is found: from its path below a base path, or from the
/// `Prompt-EventType` header.
///
/// Prompt.io posts each event to `{base URL}/{event path}` and also names the event in
/// `Prompt-EventType`. The rules, in order:
///
/// 1. The path is taken relative to ``basePath``; leading, trailing and doubled slashes and any
///    query string are ignored. A path outside the base path is not an event (404).
/// 2. A non-empty remainder is the kind — **the path wins** over the header, because it is the
///    route the endpoint subscribed to. A different header value is kept on the event as
///    ``AnyEvent/declaredKind`` so it can be logged.
/// 3. A request to the base path itself takes its kind from the header.
/// 4. With neither, there is no event kind (404).
///
/// An unfamiliar path is a valid kind, never an error — unless it could walk a handler out of
/// a directory: a `.` or `..` segment (also percent-encoded, `%2E%2E`), a `\`, or a
/// percent-encoded `/`, `\`, NUL or control byte is refused (400, ``Resolution/unsafePath(_:)``),
/// from the path or from the header alike. No Prompt.io kind contains any of them.
public struct EventRouting: Sendable, Hashable {
    /// The path below which events arrive, for example `/` or `/hooks/prompt`.
    public var basePath: String {
        didSet { baseSegments = Self.segments(basePath) }
    }
    private var baseSegments: [Substring]

    /// Creates routing below a base path.
    ///
    /// - Parameter basePath: The path prefix; `/` (the default) means events arrive at `/{kind}`.
    public init(basePath: String = "/") {
        self.basePath = basePath
        self.baseSegments = Self.segments(basePath)
    }

    /// The result of resolving a request's kind.
    public enum Resolution: Sendable, Hashable {
        /// The kind, from the path or the header.
        case kind(EventKind)
        /// The path is not below the base path.
        case outsideBasePath
        /// The request is for the base path itself and has no `Prompt-EventType` header.
        case missingKind
        /// The kind has a segment that a handler building a file path from it could be walked
        /// out of its directory by (`..`, `%2F`, …); the sentence says which.
        case unsafePath(String)
    }

    /// Resolves the kind of a request.
    ///
    /// - Parameters:
    ///   - target: The request target, for example `/hooks/message/added?x=1`.
    ///   - headers: The request headers, for `Prompt-EventType`.
    /// - Returns: The kind, or why there is none.
    public func resolve(target: String, headers: Headers) -> Resolution {
        guard let remainder = eventPath(target: target) else { return .outsideBasePath }
        if !remainder.isEmpty { return Self.checked(remainder, from: "path") }
        if let header = headers[EventKind.headerName] {
            let value = header.trimmingASCIIWhitespace()
            if !EventKind(value).rawValue.isEmpty { return Self.checked(value, from: EventKind.headerName) }
        }
        return .missingKind
    }

    private static func checked(_ path: some StringProtocol, from source: String) -> Resolution {
        if let problem = unsafeSegment(in: path) { return .unsafePath("The \(source) has \(problem).") }
        return .kind(EventKind(path))
    }

    /// What makes an event path unsafe to hand to a handler, or `nil` when nothing does.
    ///
    /// Percent-encoding is decoded only to look: the kind keeps the bytes it arrived with.
    ///
    /// - Parameter path: The event path, from the request target or `Prompt-EventType`.
    /// - Returns: A phrase such as "a `..` segment", for the rejection's message.
    static func unsafeSegment(in path: some StringProtocol) -> String? {
        // Common case, on every delivery: none of the bytes that could form an unsafe segment,
        // checked without copying the path.
        if !path.utf8.contains(where: { $0 == dot || $0 == percent || $0 == backslash || $0 < 0x20 || $0 == 0x7F }) {
            return nil
        }
        let utf8 = Array(path.utf8)
        var segmentIsDots = true
        var dots = 0
        var index = 0
        while index <= utf8.count {
            let byte = index < utf8.count ? utf8[index] : slash
            if byte == slash {
                if segmentIsDots && (dots == 1 || dots == 2) { return dots == 1 ? "a `.` segment" : "a `..` segment" }
                segmentIsDots = true
                dots = 0
                index += 1
                continue
            }
            var decoded = byte
            if byte == percent, index + 2 < utf8.count, let high = hexValue(utf8[index + 1]),
                let low = hexValue(utf8[index + 2])
            {
                decoded = high << 4 | low
                switch decoded {
                case slash: return "a percent-encoded `/`"
                case backslash: return "a percent-encoded `\\`"
                case 0: return "a percent-encoded NUL"
                case ..<0x20, 0x7F: return "a percent-encoded control byte"
                default: break
                }
                index += 2
            } else if byte == backslash {
                return "a `\\`"
            } else if byte < 0x20 || byte == 0x7F {
                return "a control byte"
            }
            if decoded == dot { dots += 1 } else { segmentIsDots = false }
            index += 1
        }
        return nil
    }

    /// The part of the target's path below the base path, or `nil` when it is outside it.
    ///
    /// - Parameter target: The request target.
    /// - Returns: The event path without surrounding slashes; empty for the base path itself.
    public func eventPath(target: String) -> String? {
        // On bytes: Character iteration would run grapheme breaking on every request. Empty
        // segments are skipped, so `//a/b/` and `/a/b` are the same path.
        let utf8 = target.utf8
        let end = utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        var index = utf8.startIndex
        func skipSlashes() {
            while index < end, utf8[index] == slash { utf8.formIndex(after: &index) }
        }
        for baseSegment in baseSegments {
            skipSlashes()
            var segmentEnd = index
            while segmentEnd < end, utf8[segmentEnd] != slash { utf8.formIndex(after: &segmentEnd) }
            guard utf8[index..<segmentEnd].elementsEqual(baseSegment.utf8) else { return nil }
            index = segmentEnd
        }
        skipSlashes()
        var last = end
        while last > index, utf8[utf8.index(before: last)] == slash { utf8.formIndex(before: &last) }
        // Every index here is next to an ASCII byte or at an end, so on a scalar boundary.
        let remainder = target[index..<last]
        let hasEmptySegment = zip(remainder.utf8, remainder.utf8.dropFirst()).contains { $0 == slash && $1 == slash }
        return hasEmptySegment ? Self.segments(remainder).joined(separator: "/") : String(remainder)
    }

    private static func segments(_ path: some StringProtocol) -> [Substring] {
        Substring(path).split(separator: "/", omittingEmptySubsequences: true)
    }
}

private let slash = UInt8(ascii: "/")
private let dot = UInt8(ascii: ".")
private let percent = UInt8(ascii: "%")
private let backslash = UInt8(ascii: "\\")

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
