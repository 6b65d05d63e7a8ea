/// HMAC (RFC 2104, FIPS 198-1) over any `HashFunction`, with the keyed states precomputed.
///
/// HMAC(K, m) = H((K′ ⊕ opad) ‖ H((K′ ⊕ ipad) ‖ m)), where K′ is the key padded with zeros to the block
/// size, or hashed first if it is longer than a block. The two pad blocks depend only on the key, so
/// `init(key:)` absorbs them once and keeps the two resulting hash states; each code then costs only
/// the message's own blocks plus one block for the outer hash.
///
/// ```swift
/// let hmac = HMAC<SHA256>(key: secret.utf8)  // once per key
/// let code = hmac.authenticationCode(for: body)  // per message
/// let valid = hmac.isValidAuthenticationCode(received, for: body)  // constant-time comparison
/// ```
package struct HMAC<H: HashFunction>: Sendable {
    /// The byte XORed into the key for the inner hash.
    private static var innerPadByte: UInt8 { 0x36 }

    /// The byte XORed into the key for the outer hash.
    private static var outerPadByte: UInt8 { 0x5C }

    /// The hash state after absorbing K′ ⊕ ipad.
    private let innerState: H

    /// The hash state after absorbing K′ ⊕ opad.
    private let outerState: H

    /// Prepares the keyed inner and outer hash states.
    ///
    /// - Parameter key: The secret key, of any length. Keys longer than `H.blockByteCount` are hashed
    ///   first, as RFC 2104 specifies; shorter keys are padded with zeros.
    package init(key: some Collection<UInt8>) {
        let blockByteCount = H.blockByteCount
        let shortKey = key.count > blockByteCount ? H.hash(key) : Array(key)
        var inner = H()
        var outer = H()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockByteCount) { pad in
            pad.initialize(repeating: 0)
            _ = pad.update(fromContentsOf: shortKey)
            for index in pad.indices {
                pad[index] ^= Self.innerPadByte
            }
            inner.update(UnsafeRawBufferPointer(pad))
            for index in pad.indices {
                pad[index] ^= Self.innerPadByte ^ Self.outerPadByte
            }
            outer.update(UnsafeRawBufferPointer(pad))
            // Best effort: do not leave key material in the stack slot.
            pad.update(repeating: 0)
        }
        innerState = inner
        outerState = outer
    }

    /// Computes the authentication code of a complete message.
    ///
    /// - Parameter message: The message bytes, for example a request body exactly as received.
    /// - Returns: The code, `H.digestByteCount` bytes long.
    package func authenticationCode(for message: some Collection<UInt8>) -> [UInt8] {
        var stream = makeStream()
        stream.update(message)
        return stream.finalize()
    }

    /// Computes the authentication code of a complete message.
    ///
    /// - Parameter message: The message bytes.
    /// - Returns: The code, `H.digestByteCount` bytes long.
    package func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        var stream = makeStream()
        stream.update(message)
        return stream.finalize()
    }

    /// Checks a received code against the message in constant time.
    ///
    /// The comparison's timing depends only on the lengths, never on where the codes first differ.
    /// A code of the wrong length, including a truncated one, is rejected.
    ///
    /// - Parameters:
    ///   - code: The code that came with the message, already decoded from hex or Base64.
    ///   - message: The message bytes.
    /// - Returns: Whether `code` is the authentication code of `message` under this key.
    package func isValidAuthenticationCode(
        _ code: some Collection<UInt8>,
        for message: some Collection<UInt8>
    ) -> Bool {
        constantTimeEquals(authenticationCode(for: message), code)
    }

    /// Starts an incremental computation, for messages that arrive in pieces.
    ///
    /// - Returns: A stream that has absorbed nothing of the message yet.
    package func makeStream() -> Stream {
        Stream(inner: innerState, outer: outerState)
    }

    /// An HMAC computation in progress: feed the message with `update`, then call `finalize()`.
    ///
    /// ```swift
    /// var stream = hmac.makeStream()
    /// stream.update(firstChunk)
    /// stream.update(secondChunk)
    /// let code = stream.finalize()
    /// ```
    package struct Stream: Sendable {
        /// The inner hash, keyed and absorbing the message.
        private var inner: H

        /// The keyed outer hash, waiting for the inner digest.
        private let outer: H

        /// Creates a stream from the precomputed keyed states.
        ///
        /// - Parameters:
        ///   - inner: The state after absorbing K′ ⊕ ipad.
        ///   - outer: The state after absorbing K′ ⊕ opad.
        fileprivate init(inner: H, outer: H) {
            self.inner = inner
            self.outer = outer
        }

        /// Absorbs the next bytes of the message.
        ///
        /// - Parameter bytes: The next bytes; may be empty.
        package mutating func update(_ bytes: UnsafeRawBufferPointer) {
            inner.update(bytes)
        }

        /// Absorbs the next bytes of the message.
        ///
        /// - Parameter bytes: The next bytes; may be empty.
        package mutating func update(_ bytes: some Sequence<UInt8>) {
            inner.update(bytes)
        }

        /// Finishes the computation.
        ///
        /// - Returns: The authentication code, `H.digestByteCount` bytes long.
        package consuming func finalize() -> [UInt8] {
            let inner = self.inner
            var outer = self.outer
            withUnsafeTemporaryAllocation(byteCount: H.digestByteCount, alignment: 1) { innerDigest in
                inner.finalize(into: innerDigest)
                outer.update(UnsafeRawBufferPointer(innerDigest))
            }
            return outer.finalize()
        }
    }
}
