package import PromptEvents

/// Serializes an HTTP/1.1 request, for the command-line tool's own HTTP client.
///
/// The request is written as:
///
///     <method> <target> HTTP/1.1\r\n
///     Host: <host>\r\n
///     <fields>\r\n
///     Content-Length: <n>\r\n
///     \r\n
///     <body>
///
/// `Content-Length` is sent when the body is not empty and for POST, PUT and PATCH even when it
/// is (RFC 9110 §8.6: a user agent should not send it for a request without content whose
/// method does not anticipate any). Caller fields named `Host`, `Content-Length` or
/// `Transfer-Encoding` are skipped, as is any field whose name is not a token or whose value
/// is not a valid field value, so no field can change the framing. Connection handling is the
/// caller's: add `Connection: close` to close after the response.
///
/// - Precondition: `method` is a token (``HTTPSyntax/isToken(_:)``), `target` a valid request
///   target (``HTTPSyntax/isRequestTarget(_:)``) and `host` a valid field value
///   (``HTTPSyntax/isFieldValue(_:)``); check user input with those first.
/// - Parameters:
///   - method: The method, for example `POST`.
///   - target: The request target, for example `/message/added`.
///   - host: The `Host` value: the server's host, with `:port` unless it is the default.
///   - headers: Further fields, written in order.
///   - body: The content.
/// - Returns: The request's bytes.
package func serializeRequest(
    method: String,
    target: String,
    host: String,
    headers: Headers = Headers(),
    body: [UInt8] = []
) -> [UInt8] {
    precondition(HTTPSyntax.isToken(method), "method must be a token")
    precondition(HTTPSyntax.isRequestTarget(target), "target must be visible ASCII without '#'")
    precondition(HTTPSyntax.isFieldValue(host), "host must be a valid field value")
    var output: [UInt8] = []
    output.reserveCapacity(128 + target.utf8.count + body.count)
    output.append(contentsOf: method.utf8)
    output.append(HTTPSyntax.sp)
    output.append(contentsOf: target.utf8)
    output.append(contentsOf: " HTTP/1.1\r\nHost: ".utf8)
    output.append(contentsOf: host.utf8)
    output.append(contentsOf: "\r\n".utf8)
    for field in headers {
        let name = field.name
        guard !HTTPSyntax.equalsIgnoringCase(name, "host"),
            !HTTPSyntax.equalsIgnoringCase(name, "content-length"),
            !HTTPSyntax.equalsIgnoringCase(name, "transfer-encoding"),
            HTTPSyntax.isToken(name), HTTPSyntax.isFieldValue(field.value)
        else { continue }
        output.append(contentsOf: field.name.utf8)
        output.append(contentsOf: ": ".utf8)
        output.append(contentsOf: field.value.utf8)
        output.append(contentsOf: "\r\n".utf8)
    }
    let methodAnticipatesContent = method == "POST" || method == "PUT" || method == "PATCH"
    if !body.isEmpty || methodAnticipatesContent {
        output.append(contentsOf: "Content-Length: ".utf8)
        ResponseWriter.appendDecimal(body.count, to: &output)
        output.append(contentsOf: "\r\n".utf8)
    }
    output.append(contentsOf: "\r\n".utf8)
    output.append(contentsOf: body)
    return output
}
