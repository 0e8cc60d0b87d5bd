import Stockade

/// Parsing of --bind SRC[:DST], --ro-bind SRC[:DST] and --tmpfs DST[:SIZE].
enum MountArgument {
    static func bind(_ text: String, readOnly: Bool) throws -> Mount {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let source = parts[0]
        let destination = parts.count > 1 ? parts[1] : source
        guard !source.isEmpty, !destination.isEmpty else {
            throw CLIError.usage("\(readOnly ? "--ro-bind" : "--bind") takes SRC[:DST] with absolute paths, got '\(text)'")
        }
        return .bind(source: source, destination: destination, readOnly: readOnly)
    }

    static func tmpfs(_ text: String) throws -> Mount {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var size: UInt64 = 64 << 20
        if parts.count > 1 {
            guard let s = SizeParser.bytes(parts[1]) else {
                throw CLIError.usage("--tmpfs size '\(parts[1])' is not a size such as 64M or 1G")
            }
            size = s
        }
        return .tmpfs(destination: parts[0], sizeBytes: size, mode: 0o1777)
    }
}

/// A command-line mistake: printed with the usage hint, exit status 125 (Stockade's own failure).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    static func usage(_ message: String) -> CLIError { CLIError(description: message) }
}
