import Glibc

/// Plain C memory for one spawn: strings, arrays and structs the child reads between clone and
/// exec. Everything is allocated before clone and freed together after `stk_spawn` returns.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { free(block) }
    }

    private func allocate(_ size: Int, alignment: Int = 16) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, max(alignment, MemoryLayout<UnsafeRawPointer>.stride), max(size, 1))
        guard rc == 0, let raw else { fatalError("out of memory preparing a spawn (\(size) bytes)") }
        blocks.append(raw)
        return raw
    }

    /// A NUL-terminated copy of `string`.
    func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        var utf8 = Array(string.utf8)
        utf8.append(0)
        let raw = allocate(utf8.count, alignment: 1)
        raw.copyMemory(from: utf8, byteCount: utf8.count)
        return raw.assumingMemoryBound(to: CChar.self)
    }

    /// A NUL-terminated copy of `string`, or nil.
    func optionalString(_ string: String?) -> UnsafePointer<CChar>? {
        string.map { UnsafePointer(self.string($0)) }
    }

    /// A copy of raw bytes.
    func bytes(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let raw = allocate(bytes.count + 1, alignment: 1)
        bytes.withUnsafeBytes { buffer in
            if let base = buffer.baseAddress { raw.copyMemory(from: base, byteCount: buffer.count) }
        }
        raw.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        return raw.assumingMemoryBound(to: CChar.self)
    }

    /// A NULL-terminated array of C strings (argv, envp).
    func stringArray(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let raw = allocate(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (strings.count + 1))
        let array = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { array[i] = string(s) }
        array[strings.count] = nil
        return array
    }

    /// A copy of `values` as a C array.
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let raw = allocate(MemoryLayout<T>.stride * max(values.count, 1), alignment: max(MemoryLayout<T>.alignment, 16))
        let typed = raw.bindMemory(to: T.self, capacity: max(values.count, 1))
        for (i, v) in values.enumerated() { (typed + i).initialize(to: v) }
        return typed
    }
}
