/// Why an HTTP/1.1 message was rejected, with the status code a server answers it with.
///
/// The error never echoes the offending input: ``reason`` is a stable code and ``message`` a
/// fixed sentence, so both are safe to log and to send back in a response body. After any
/// parse error the connection's framing is unknown, so the server answers once and closes.
package struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code naming one rule that the message broke.
    package enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The reason as the request log and the rejection metric name it: snake case, an
        /// acronym kept whole (`transferEncodingInHTTP10` is `transfer_encoding_in_http10`).
        package var label: String {
            var label = ""
            var previous: Character?
            for character in rawValue {
                if character.isUppercase, let previous, !previous.isUppercase { label += "_" }
                label += character.lowercased()
                previous = character
            }
            return label
        }

        /// The request line is not `method SP request-target SP HTTP-version` (RFC 9112 §3).
        case invalidRequestLine
        /// The method is empty or has a byte outside the token grammar (RFC 9110 §9.1).
        case invalidMethod
        /// The request target has a forbidden byte or is in a form this server refuses (RFC 9112 §3.2).
        case invalidTarget
        /// The request target is longer than ``HTTPLimits/maxTargetBytes`` (RFC 9112 §3).
        case targetTooLong
        /// The version is not `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3).
        case invalidVersion
        /// The version is well formed but not HTTP/1.0 or HTTP/1.1 (RFC 9110 §15.6.6).
        case versionNotSupported
        /// A line ended in LF without the CR that must precede it (RFC 9112 §2.2).
        case bareLineFeed
        /// A field line starts with whitespace: obsolete line folding, or whitespace between the
        /// start line and the first field (RFC 9112 §2.2, §5.2).
        case obsoleteLineFolding
        /// Whitespace between a field name and its colon (RFC 9112 §5.1).
        case whitespaceBeforeColon
        /// A field line starts with a colon (RFC 9110 §5.1).
        case emptyHeaderName
        /// A field name has a byte outside the token grammar, or the line has no colon (RFC 9110 §5.1).
        case invalidHeaderName
        /// A field value has a control byte, DEL, or is not UTF-8 (RFC 9110 §5.5).
        case invalidHeaderValue
        /// An HTTP/1.1 request without a `Host` field (RFC 9112 §3.2).
        case missingHost
        /// A request with more than one `Host` field (RFC 9112 §3.2).
        case multipleHost
        /// A `Host` value that is not `uri-host [":" port]` (RFC 9112 §3.2).
        case invalidHost
        /// A `Content-Length` that is not a non-negative decimal number (RFC 9110 §8.6).
        case invalidContentLength
        /// `Content-Length` values that differ (RFC 9112 §6.3).
        case conflictingContentLength
        /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.1, §6.3).
        case contentLengthWithTransferEncoding
        /// `Transfer-Encoding` in an HTTP/1.0 message (RFC 9112 §6.1).
        case transferEncodingInHTTP10
        /// `Transfer-Encoding` whose final coding is not `chunked`, or that is empty or malformed
        /// (RFC 9112 §6.3).
        case invalidTransferEncoding
        /// `Transfer-Encoding` with a coding other than `chunked` before it (RFC 9112 §6.1).
        case unsupportedTransferCoding
        /// A POST, PUT or PATCH request without `Content-Length` or `Transfer-Encoding` (RFC 9110 §15.5.12).
        case lengthRequired
        /// An `Expect` value other than `100-continue` (RFC 9110 §10.1.1).
        case unsupportedExpectation
        /// The head (or trailer section) is larger than ``HTTPLimits/maxHeadBytes``.
        case headTooLarge
        /// More fields than ``HTTPLimits/maxHeaderCount`` in the head or the trailer section.
        case tooManyHeaders
        /// The body is larger than ``HTTPLimits/maxBodyBytes``.
        case bodyTooLarge
        /// A chunk size that is not 1 to 16 hexadecimal digits (RFC 9112 §7.1).
        case invalidChunkSize
        /// A chunk extension that is not `;name[=value]` (RFC 9112 §7.1.1).
        case invalidChunkExtension
        /// Chunk extensions larger than ``HTTPLimits/maxChunkExtensionBytes`` over the body.
        case chunkExtensionsTooLarge
        /// Chunk data not followed by CRLF (RFC 9112 §7.1).
        case invalidChunkData
        /// A response's status line is not `HTTP-version SP 3DIGIT SP reason` (RFC 9112 §4).
        case invalidStatusLine
        /// A `101 Switching Protocols` response, which this client never asks for (RFC 9110 §15.2.2).
        case unexpectedUpgrade
        /// The connection ended before the message was complete (RFC 9112 §8).
        case incompleteMessage

        /// The status code a server answers this error with.
        ///
        /// Errors that only a response parser raises map to 502 (Bad Gateway), the status a
        /// gateway would answer an invalid upstream response with.
        package var status: Int {
            switch self {
            case .targetTooLong: 414
            case .versionNotSupported: 505
            case .lengthRequired: 411
            case .unsupportedExpectation: 417
            case .headTooLarge, .tooManyHeaders: 431
            case .bodyTooLarge, .chunkExtensionsTooLarge: 413
            case .unsupportedTransferCoding: 501
            case .invalidStatusLine, .unexpectedUpgrade, .incompleteMessage: 502
            default: 400
            }
        }

        /// A fixed, human-readable sentence describing the error.
        package var message: String {
            switch self {
            case .invalidRequestLine: "Malformed request line."
            case .invalidMethod: "Invalid request method."
            case .invalidTarget: "Invalid request target."
            case .targetTooLong: "Request target too long."
            case .invalidVersion: "Malformed HTTP version."
            case .versionNotSupported: "HTTP version not supported."
            case .bareLineFeed: "Line terminated by LF without CR."
            case .obsoleteLineFolding: "Obsolete line folding is not accepted."
            case .whitespaceBeforeColon: "Whitespace between field name and colon."
            case .emptyHeaderName: "Empty header field name."
            case .invalidHeaderName: "Invalid header field name."
            case .invalidHeaderValue: "Invalid header field value."
            case .missingHost: "Missing Host header field."
            case .multipleHost: "More than one Host header field."
            case .invalidHost: "Invalid Host header field."
            case .invalidContentLength: "Invalid Content-Length."
            case .conflictingContentLength: "Conflicting Content-Length values."
            case .contentLengthWithTransferEncoding: "Both Content-Length and Transfer-Encoding."
            case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 message."
            case .invalidTransferEncoding: "Transfer-Encoding does not end with chunked."
            case .unsupportedTransferCoding: "Unsupported transfer coding."
            case .lengthRequired: "Content-Length or chunked Transfer-Encoding required."
            case .unsupportedExpectation: "Unsupported expectation."
            case .headTooLarge: "Header section too large."
            case .tooManyHeaders: "Too many header fields."
            case .bodyTooLarge: "Content too large."
            case .invalidChunkSize: "Invalid chunk size."
            case .invalidChunkExtension: "Invalid chunk extension."
            case .chunkExtensionsTooLarge: "Chunk extensions too large."
            case .invalidChunkData: "Chunk data not terminated by CRLF."
            case .invalidStatusLine: "Malformed status line."
            case .unexpectedUpgrade: "Unexpected protocol upgrade."
            case .incompleteMessage: "Connection closed before the message was complete."
            }
        }
    }

    /// The rule the message broke.
    package let reason: Reason

    /// Creates an error for a broken rule.
    ///
    /// - Parameter reason: The rule the message broke.
    package init(_ reason: Reason) {
        self.reason = reason
    }

    /// The status code to answer with: 400, 411, 413, 414, 417, 431, 501 or 505 (502 for
    /// response-parsing errors).
    package var status: Int { reason.status }

    /// A fixed sentence describing the error, safe to send as a response body.
    package var message: String { reason.message }

    /// The status, the reason code and the message, for logs.
    package var description: String { "\(status) \(reason.rawValue): \(message)" }
}
