extension [UInt8] {
    /// Drops the bytes a parser has consumed, `self[..<readIndex]`, and moves `readIndex` to match.
    ///
    /// All of them when nothing is left (cheap; the capacity is kept up to 64 KiB), or by moving
    /// the rest down once the consumed prefix is at least 4 KiB and at least as long as the rest,
    /// so each byte is moved a bounded number of times. Shared by the request and response parsers.
    ///
    /// - Parameter readIndex: The index of the first unconsumed byte; 0 afterwards when anything moved.
    mutating func dropConsumed(upTo readIndex: inout Int) {
        if readIndex == count {
            guard readIndex > 0 else { return }
            removeAll(keepingCapacity: capacity <= 64 * 1024)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex >= count &- readIndex {
            removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
