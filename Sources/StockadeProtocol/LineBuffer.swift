/// Splits a byte stream into `\n`-terminated lines (a trailing `\r` is
/// stripped), bounding line length.
///
/// A line whose content (without `\r\n`) exceeds `maxLineBytes` is reported
/// once as `.oversize(n)`, where `n` is its length so far, as soon as that is
/// known; its remaining bytes are then discarded up to and including the
/// next `\n`, so the stream resynchronises on the following line. Buffered
/// memory stays below about `maxLineBytes` plus one `append` chunk.
///
/// Consumed bytes are dropped lazily (the storage is compacted only when the
/// consumed prefix dominates), so many short lines in one chunk cost O(bytes).
public struct LineBuffer: Sendable {
    public enum Event: Sendable, Hashable {
        case line([UInt8])
        case oversize(Int)
    }

    public let maxLineBytes: Int
    private var storage: [UInt8] = []
    /// Start of the unconsumed bytes in `storage`.
    private var head = 0
    /// Bytes in `storage[head..<scanned]` are known to contain no `\n`.
    private var scanned = 0
    /// Skipping the rest of an oversize line until the next `\n`.
    private var discarding = false

    public init(maxLineBytes: Int = 1 << 20) {
        self.maxLineBytes = max(maxLineBytes, 0)
    }

    /// Bytes held for the current incomplete line.
    public var bufferedByteCount: Int { storage.count - head }

    /// Whether an oversize line's tail is currently being skipped.
    public var isDiscarding: Bool { discarding }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var chunk = bytes
        if discarding {
            // Drop input up to and including the next newline without copying.
            guard let nl = chunk.firstIndex(of: ASCII.newline) else { return }
            discarding = false
            chunk = UnsafeRawBufferPointer(rebasing: chunk[(nl + 1)...])
        }
        if chunk.isEmpty { return }
        compactIfWorthwhile()
        storage.append(contentsOf: chunk)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete line or oversize report, or `nil` when more input
    /// is needed.
    public mutating func nextLine() -> Event? {
        while true {
            let count = storage.count
            let from = scanned
            let found: Int? = storage.withUnsafeBufferPointer { buf in
                guard let base = buf.baseAddress else { return nil }
                let i = ByteScan.firstIndex(of: ASCII.newline, in: base, from: from, to: count)
                return i < count ? i : nil
            }
            guard let nl = found else {
                scanned = count
                if discarding {
                    dropAll()
                } else if count - head > maxLineBytes
                    && (count - head - 1 > maxLineBytes || storage[count - 1] != ASCII.carriageReturn)
                {
                    // Cannot fit even if the next byte is the newline (a
                    // trailing "\r" may still turn out to be part of "\r\n").
                    let length = count - head
                    dropAll()
                    discarding = true
                    return .oversize(length)
                }
                return nil
            }
            let lineStart = head
            var lineEnd = nl
            if lineEnd > lineStart && storage[lineEnd - 1] == ASCII.carriageReturn { lineEnd -= 1 }
            head = nl + 1
            scanned = head
            if discarding {
                discarding = false
                continue
            }
            let length = lineEnd - lineStart
            if length > maxLineBytes { return .oversize(length) }
            return .line(Array(storage[lineStart..<lineEnd]))
        }
    }

    /// At end of stream: the final unterminated line (or its oversize
    /// report), if any. Resets the buffer.
    public mutating func finish() -> Event? {
        defer {
            dropAll()
            discarding = false
        }
        if discarding || head == storage.count { return nil }
        var end = storage.count
        if storage[end - 1] == ASCII.carriageReturn { end -= 1 }
        let length = end - head
        if length > maxLineBytes { return .oversize(length) }
        return .line(Array(storage[head..<end]))
    }

    private mutating func dropAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
        scanned = 0
    }

    private mutating func compactIfWorthwhile() {
        if head == 0 { return }
        if head == storage.count {
            dropAll()
        } else if head >= 4096 && head * 2 >= storage.count {
            storage.removeSubrange(0..<head)
            scanned -= head
            head = 0
        }
    }
}
