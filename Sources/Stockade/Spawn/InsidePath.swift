/// Validation of paths: inside-the-sandbox destinations and host sources.
enum PathCheck {
    /// A normalized absolute path inside the sandbox: "/a/b", no ".", "..", empty components or NUL.
    static func inside(_ path: String, what: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw SandboxError.invalidSpec("\(what) '\(path)' must be an absolute path inside the sandbox")
        }
        guard !path.utf8.contains(0), path.utf8.count < 4096 else {
            throw SandboxError.invalidSpec("\(what) has a NUL byte or is longer than 4095 bytes")
        }
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." || component == ".." {
                throw SandboxError.invalidSpec("\(what) '\(path)' must not contain '.' or '..' components")
            }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// An absolute host path.
    static func host(_ path: String, what: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw SandboxError.invalidSpec("\(what) '\(path)' must be an absolute host path")
        }
        guard !path.utf8.contains(0), path.utf8.count < 4096 else {
            throw SandboxError.invalidSpec("\(what) has a NUL byte or is longer than 4095 bytes")
        }
        return path
    }

    /// "/a/b/c" → ["/a", "/a/b"]
    static func ancestors(_ path: String) -> [String] {
        let parts = path.split(separator: "/")
        guard parts.count > 1 else { return [] }
        var out: [String] = []
        var current = ""
        for part in parts.dropLast() {
            current += "/" + part
            out.append(current)
        }
        return out
    }
}
