import Glibc
import StockadeProtocol

/// Builds a sandbox's complete environment. Nothing is inherited from the daemon except host
/// variables an allow-list passes:
///
/// 1. Host variables whose names match an `allowed` entry (exact or `*` pattern), except names
///    that look like secrets or configuration (`SecretNames`), which pass only when named
///    exactly in `explicitlyAllowed`. Reserved names (the fixed ones, PWD, USER, ...) never pass.
/// 2. Variables supplied with the request, validated: name `[A-Za-z_][A-Za-z0-9_]*` of at most
///    128 bytes, value at most 32 KiB, no NUL, at most 64 of them, none of the fixed or reserved
///    names, nothing starting with `LD_` or `STOCKADE_`. They override host variables. They are
///    the user's own, so secret-looking names are fine here.
/// 3. The fixed values, which always win: PATH, HOME, LANG, TMPDIR, STOCKADE_USER_ID,
///    STOCKADE_OUTPUTS, STOCKADE_UPLOADS, STOCKADE_WORK.
public struct RestrictedEnvironment: Sendable {
    /// Where host variables come from.
    public enum HostSource: Sendable, Hashable {
        /// The daemon's process environment, read at each `build`.
        case process
        /// A fixed map (tests, or a daemon that snapshots its environment at start).
        case fixed([String: String])
    }

    public static let fixedNames: Set<String> = ["PATH", "HOME", "LANG", "TMPDIR", "STOCKADE_USER_ID",
                                                 "STOCKADE_OUTPUTS", "STOCKADE_UPLOADS", "STOCKADE_WORK"]
    /// Names neither the host nor a request may set (fixed ones included).
    public static let reservedNames: Set<String> = fixedNames.union(ExecuteParams.reservedEnvNames)
    public static let maxRequestVariables = ExecuteParams.maxEnvVariables
    public static let maxNameBytes = 128
    public static let maxValueBytes = ExecuteParams.maxEnvValueBytes

    public var allowed: [EnvironmentPattern]
    public var explicitlyAllowed: Set<String>
    public var host: HostSource

    public init(allowed: [EnvironmentPattern] = [], explicitlyAllowed: Set<String> = [], host: HostSource = .process) throws(UserDataError) {
        for name in explicitlyAllowed {
            guard Self.isValidName(name) else {
                throw .invalidAllowList(entry: name, reason: "explicitly allowed names must be exact variable names (letters, digits, '_'; no '*')")
            }
        }
        self.allowed = allowed
        self.explicitlyAllowed = explicitlyAllowed
        self.host = host
    }

    /// From comma-separated lists, as in `STOCKADE_ALLOWED_ENV="LC_*,TZ"` and
    /// `STOCKADE_ALLOWED_SECRET_ENV="PIP_INDEX_TOKEN"`.
    public init(allowList: String, explicitlyAllowed: String = "", host: HostSource = .process) throws(UserDataError) {
        let exact = try EnvironmentPattern.parseList(explicitlyAllowed)
        if let pattern = exact.first(where: { !$0.isExact }) {
            throw .invalidAllowList(entry: pattern.text, reason: "explicitly allowed names must be exact, without '*'")
        }
        try self.init(allowed: try EnvironmentPattern.parseList(allowList),
                      explicitlyAllowed: Set(exact.map(\.text)), host: host)
    }

    /// Allow-list entries that name a secret-looking variable exactly but are not in
    /// `explicitlyAllowed`: they have no effect, and an operator should hear about it.
    public var ignoredEntries: [String] {
        allowed.filter { $0.isExact && !explicitlyAllowed.contains($0.text) && SecretNames.looksSecret($0.text) }
            .map { "\($0.text): \(SecretNames.refusal($0.text) ?? "refused"); name it in the explicitly allowed list to pass it" }
    }

    /// Whether the host variable `name` passes into sandboxes.
    public func admitsHostVariable(_ name: String) -> Bool {
        guard Self.isValidName(name), !Self.reservedNames.contains(name) else { return false }
        if explicitlyAllowed.contains(name) { return true }
        guard allowed.contains(where: { $0.matches(name) }) else { return false }
        return !SecretNames.looksSecret(name)
    }

    /// The sandbox environment of `user`'s request.
    public func build(user: UserID, requestEnv: [String: String] = [:]) throws(UserDataError) -> [String: String] {
        try Self.validateRequest(requestEnv)
        var env: [String: String] = [:]
        for (name, value) in hostVariables() where admitsHostVariable(name) {
            env[name] = value
        }
        for (name, value) in requestEnv { env[name] = value }
        for (name, value) in Self.fixedValues(user: user) { env[name] = value }
        return env
    }

    /// The values that are always set.
    public static func fixedValues(user: UserID) -> [String: String] {
        [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": UserDirectories.workInside,
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
            "STOCKADE_USER_ID": user.rawValue,
            "STOCKADE_OUTPUTS": UserDirectories.outputsInside,
            "STOCKADE_UPLOADS": UserDirectories.uploadsInside,
            "STOCKADE_WORK": UserDirectories.workInside,
        ]
    }

    /// Check variables supplied with a request; the error names the variable.
    public static func validateRequest(_ env: [String: String]) throws(UserDataError) {
        guard env.count <= maxRequestVariables else {
            throw .invalidVariable(name: "(\(env.count) variables)", reason: "a request may set at most \(maxRequestVariables) variables")
        }
        for (name, value) in env.sorted(by: { $0.key < $1.key }) {
            guard name.utf8.count <= maxNameBytes else {
                throw .invalidVariable(name: name, reason: "the name is \(name.utf8.count) bytes long (at most \(maxNameBytes))")
            }
            guard isValidName(name) else {
                throw .invalidVariable(name: name, reason: "a name must match [A-Za-z_][A-Za-z0-9_]* (letters, digits and '_', not starting with a digit)")
            }
            guard !reservedNames.contains(name) else {
                throw .invalidVariable(name: name, reason: "it is set by the sandbox and cannot be overridden")
            }
            guard !name.hasPrefix("LD_"), !name.hasPrefix("STOCKADE_") else {
                throw .invalidVariable(name: name, reason: "LD_* and STOCKADE_* names are reserved")
            }
            guard !value.utf8.contains(0) else {
                throw .invalidVariable(name: name, reason: "the value contains a NUL byte")
            }
            guard value.utf8.count <= maxValueBytes else {
                throw .invalidVariable(name: name, reason: "the value is \(value.utf8.count) bytes long (at most \(maxValueBytes))")
            }
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= maxNameBytes else { return false }
        let isAlpha = { (c: UInt8) in (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f }
        return isAlpha(first) && name.utf8.allSatisfy { isAlpha($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// The host variables (from `host`).
    public func hostVariables() -> [String: String] {
        switch host {
        case let .fixed(map): return map
        case .process: return Self.processEnvironment()
        }
    }

    /// A snapshot of this process's environment.
    public static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        // `environ` is NULL after clearenv(); look at it as an optional pointer.
        let base = unsafeBitCast(environ, to: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self)
        guard var entry = base else { return out }
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let eq = text.firstIndex(of: "=") {
                let name = String(text[..<eq])
                if out[name] == nil { out[name] = String(text[text.index(after: eq)...]) }
            }
            entry += 1
        }
        return out
    }
}
