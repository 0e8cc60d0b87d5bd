/// A seccomp policy as data: a default action and rules with argument conditions. Compiled with
/// libseccomp by `SeccompCompiler` (once per policy, cached). Encodes to and decodes from JSON:
///
///     {"default_action": "allow",
///      "rules": [{"syscalls": ["keyctl"], "action": "errno:EPERM", "reason": "..."},
///                {"syscalls": ["ioctl"], "action": "errno:EPERM",
///                 "args": [{"index": 1, "op": "masked_eq", "mask": 4294967295, "value": 21522}]}]}
public struct SeccompPolicy: Sendable, Hashable, Codable {
    public var defaultAction: SeccompAction
    /// What a syscall from a non-native architecture (32-bit x86, x32) gets.
    public var badArchAction: SeccompAction
    public var rules: [SeccompRule]

    public init(defaultAction: SeccompAction, badArchAction: SeccompAction = .killProcess, rules: [SeccompRule]) {
        self.defaultAction = defaultAction
        self.badArchAction = badArchAction
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey {
        case defaultAction = "default_action"
        case badArchAction = "bad_arch_action"
        case rules
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultAction = try c.decode(SeccompAction.self, forKey: .defaultAction)
        badArchAction = try c.decodeIfPresent(SeccompAction.self, forKey: .badArchAction) ?? .killProcess
        rules = try c.decodeIfPresent([SeccompRule].self, forKey: .rules) ?? []
    }
}

/// What a matching syscall gets.
public enum SeccompAction: Sendable, Hashable, Codable, CustomStringConvertible {
    case allow
    case errno(Int32)
    case killProcess
    case killThread
    case trap
    case log

    public var description: String {
        switch self {
        case .allow: return "allow"
        case let .errno(e): return "errno:\(ErrnoName.name(e) ?? String(e))"
        case .killProcess: return "kill_process"
        case .killThread: return "kill_thread"
        case .trap: return "trap"
        case .log: return "log"
        }
    }

    /// Parse "allow", "log", "trap", "kill", "kill_process", "kill_thread", "errno:EPERM", "errno:1".
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "allow": self = .allow
        case "log": self = .log
        case "trap": self = .trap
        case "kill", "kill_process": self = .killProcess
        case "kill_thread": self = .killThread
        default:
            guard text.lowercased().hasPrefix("errno:") else { return nil }
            let value = String(text.dropFirst(6))
            if let n = Int32(value), n > 0, n < 4096 { self = .errno(n) }
            else if let n = ErrnoName.number(value) { self = .errno(n) }
            else { return nil }
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let action = SeccompAction(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "unknown seccomp action '\(text)': use allow, log, trap, kill_process, kill_thread or errno:NAME"))
        }
        self = action
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One rule: these syscalls, when every argument condition holds, get `action`.
public struct SeccompRule: Sendable, Hashable, Codable {
    public var syscalls: [String]
    public var action: SeccompAction
    public var args: [SeccompArgument]
    /// Why the rule exists (printed by `stockade seccomp explain`).
    public var reason: String?

    public init(_ syscalls: [String], _ action: SeccompAction, args: [SeccompArgument] = [], reason: String? = nil) {
        self.syscalls = syscalls
        self.action = action
        self.args = args
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey { case syscalls, action, args, reason }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        syscalls = try c.decode([String].self, forKey: .syscalls)
        action = try c.decode(SeccompAction.self, forKey: .action)
        args = try c.decodeIfPresent([SeccompArgument].self, forKey: .args) ?? []
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
    }
}

/// A condition on one syscall argument (0-5).
public struct SeccompArgument: Sendable, Hashable, Codable {
    public enum Operator: String, Sendable, Hashable, Codable {
        case eq, ne, lt, le, gt, ge
        /// (arg & mask) == value
        case maskedEq = "masked_eq"
    }

    public var index: UInt32
    public var op: Operator
    public var value: UInt64
    public var mask: UInt64?

    public init(index: UInt32, op: Operator, value: UInt64, mask: UInt64? = nil) {
        self.index = index
        self.op = op
        self.value = value
        self.mask = mask
    }

    /// (arg & mask) == value
    public static func masked(_ index: UInt32, mask: UInt64, equals value: UInt64) -> SeccompArgument {
        SeccompArgument(index: index, op: .maskedEq, value: value, mask: mask)
    }
}

/// errno names used in policies.
public enum ErrnoName {
    static let table: [(String, Int32)] = [
        ("EPERM", 1), ("ENOENT", 2), ("EIO", 5), ("EBADF", 9), ("EAGAIN", 11), ("ENOMEM", 12),
        ("EACCES", 13), ("EFAULT", 14), ("EBUSY", 16), ("EEXIST", 17), ("EINVAL", 22),
        ("ENOSPC", 28), ("EROFS", 30), ("ENOSYS", 38), ("EOPNOTSUPP", 95), ("EAFNOSUPPORT", 97),
        ("EPROTONOSUPPORT", 93),
    ]
    public static func number(_ name: String) -> Int32? { table.first { $0.0 == name.uppercased() }?.1 }
    public static func name(_ number: Int32) -> String? { table.first { $0.1 == number }?.0 }
}
