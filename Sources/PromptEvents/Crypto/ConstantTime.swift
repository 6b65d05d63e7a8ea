/// Compares two byte strings in time that depends only on their lengths, not on their contents.
///
/// Use this, never `==`, to compare a received signature or token with the expected one: `==` stops at
/// the first differing byte, and the time it takes tells an attacker how many leading bytes were right.
///
/// Returns early only when the lengths differ, since lengths are not secret (a hex SHA-256 signature is
/// always 64 characters). Otherwise every byte pair is XORed and the results OR-accumulated, and the
/// verdict is read once at the end. The function is `@inline(never)` so the loop cannot be merged into
/// a caller and specialized on a known operand.
///
/// - Parameters:
///   - lhs: One byte string, for example the expected code.
///   - rhs: The other, for example the received code.
/// - Returns: Whether both have the same length and the same bytes.
@inline(never)
package func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) {
        difference |= left ^ right
    }
    return difference == 0
}
