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
/// An unfamiliar path is always a valid kind, never an error.
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
    }

    /// Resolves the kind of a request.
    ///
    /// - Parameters:
    ///   - target: The request target, for example `/hooks/message/added?x=1`.
    ///   - headers: The request headers, for `Prompt-EventType`.
    /// - Returns: The kind, or why there is none.
    public func resolve(target: String, headers: Headers) -> Resolution {
        guard let remainder = eventPath(target: target) else { return .outsideBasePath }
        if !remainder.isEmpty { return .kind(EventKind(remainder)) }
        if let header = headers[EventKind.headerName] {
            let kind = EventKind(header.trimmingASCIIWhitespace())
            if !kind.rawValue.isEmpty { return .kind(kind) }
        }
        return .missingKind
    }

    /// The part of the target's path below the base path, or `nil` when it is outside it.
    ///
    /// - Parameter target: The request target.
    /// - Returns: The event path without surrounding slashes; empty for the base path itself.
    public func eventPath(target: String) -> String? {
        // On bytes: Character iteration would run grapheme breaking on every request. Empty
        // segments are skipped, so `//a/b/` and `/a/b` are the same path.
        let utf8 = target.utf8
        let slash = UInt8(ascii: "/")
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
