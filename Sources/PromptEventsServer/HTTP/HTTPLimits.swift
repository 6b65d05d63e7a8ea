/// Size limits that the HTTP/1.1 parsers enforce before any request reaches the receiver.
///
/// Every limit is inclusive: a message exactly at a limit is accepted, one byte (or one field)
/// more is rejected with the status given below. The defaults suit webhook deliveries, whose
/// heads are a few hundred bytes and whose bodies are small JSON documents.
///
/// | Limit | Default | Rejected with |
/// | --- | --- | --- |
/// | ``maxHeadBytes`` | 16 KiB | 431 (trailers too) |
/// | ``maxTargetBytes`` | 8 KiB | 414 |
/// | ``maxHeaderCount`` | 100 | 431 (trailers too) |
/// | ``maxBodyBytes`` | 1 MiB | 413 |
/// | ``maxChunkExtensionBytes`` | 4 KiB | 413 |
public struct HTTPLimits: Sendable, Hashable {
    /// The most bytes a head may take: the request line, every header field line with its CRLF,
    /// the empty line that ends the head, and any empty lines ignored before the request line.
    ///
    /// The same limit bounds the trailer section of a chunked body. Defaults to 16 KiB (16384).
    public var maxHeadBytes: Int

    /// The longest request target accepted, in bytes.
    ///
    /// Defaults to 8 KiB (8192). A longer target is answered with 414 (URI Too Long), even when the head as a whole would
    /// fit in ``maxHeadBytes``.
    public var maxTargetBytes: Int

    /// The most header field lines a head may have, duplicates counted.
    ///
    /// Defaults to 100. The same limit bounds the number of trailer fields of a chunked body.
    public var maxHeaderCount: Int

    /// The largest body accepted, in bytes after de-chunking.
    ///
    /// Defaults to 1 MiB (1048576). A `Content-Length` above it is rejected as soon as the head is complete, before any body
    /// byte is read; a chunked body is rejected as soon as a chunk size would take the running
    /// total above it.
    public var maxBodyBytes: Int

    /// The most bytes of chunk extensions accepted over a whole chunked body.
    ///
    /// Defaults to 4 KiB (4096). Chunk extensions (`;name=value` after a chunk size) carry
    /// nothing the receiver uses, and they do not count towards ``maxBodyBytes``, so without
    /// this bound a client could stream them forever.
    ///
    public var maxChunkExtensionBytes: Int

    /// Creates limits, each defaulting to the value documented on its property.
    ///
    /// - Parameters:
    ///   - maxHeadBytes: The most bytes a head (or trailer section) may take; at least 1.
    ///   - maxTargetBytes: The longest request target, in bytes; at least 1.
    ///   - maxHeaderCount: The most header (or trailer) field lines; at least 0.
    ///   - maxBodyBytes: The largest body, in bytes; at least 0.
    ///   - maxChunkExtensionBytes: The most chunk-extension bytes over a whole body; at least 0.
    public init(
        maxHeadBytes: Int = 16 * 1024,
        maxTargetBytes: Int = 8 * 1024,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1024 * 1024,
        maxChunkExtensionBytes: Int = 4 * 1024
    ) {
        precondition(maxHeadBytes >= 1, "maxHeadBytes must be positive")
        precondition(maxTargetBytes >= 1, "maxTargetBytes must be positive")
        precondition(maxHeaderCount >= 0, "maxHeaderCount must not be negative")
        precondition(maxBodyBytes >= 0, "maxBodyBytes must not be negative")
        precondition(maxChunkExtensionBytes >= 0, "maxChunkExtensionBytes must not be negative")
        self.maxHeadBytes = maxHeadBytes
        self.maxTargetBytes = maxTargetBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkExtensionBytes = maxChunkExtensionBytes
    }
}
