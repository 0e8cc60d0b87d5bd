/// The params of an `execute` request.
public struct ExecuteParams: Sendable, Hashable {
    public var language: Language
    public var code: String
    /// Handler mode: call `handler(event[, context])` and return its value as JSON.
    public var handler: Bool
    public var event: JSONValue?
    public var stdin: String?
    /// Variables added to the worker's restricted environment (validated).
    public var env: [String: String]
    public var limits: ExecutionLimits
    /// Send stdout/stderr chunks as `event` notifications while it runs.
    public var stream: Bool
    public var executionID: String?

    public init(language: Language, code: String, handler: Bool = false, event: JSONValue? = nil, stdin: String? = nil,
                env: [String: String] = [:], limits: ExecutionLimits = ExecutionLimits(), stream: Bool = false,
                executionID: String? = nil) {
        self.language = language
        self.code = code
        self.handler = handler
        self.event = event
        self.stdin = stdin
        self.env = env
        self.limits = limits
        self.stream = stream
        self.executionID = executionID
    }

    /// Bounds on what a request may carry.
    public static let maxCodeBytes = 4 << 20
    public static let maxStdinBytes = 8 << 20
    public static let maxEnvVariables = 64
    public static let maxEnvValueBytes = 32 << 10
    /// Names a request may never set: the sandbox's fixed values and the dynamic loader's.
    public static let reservedEnvNames: Set<String> = ["PATH", "HOME", "LANG", "TMPDIR", "PWD", "USER", "LOGNAME", "SHELL",
                                                      "STOCKADE_USER_ID", "STOCKADE_OUTPUTS", "STOCKADE_UPLOADS", "STOCKADE_WORK"]

    /// Parse and validate; every error says which field is wrong and what to do.
    public init(json: JSONValue?) throws(RPCError) {
        guard let o = json?.objectValue else { throw .invalidParams("execute takes an object: {\"language\": \"python\", \"code\": \"print(1)\"}") }
        guard let lang = o["language"]?.stringValue else { throw .invalidParams("language is required: python, javascript or shell") }
        guard let language = Language(name: lang) else { throw .invalidParams("unknown language '\(lang)': use python, javascript or shell") }
        guard let code = o["code"]?.stringValue else { throw .invalidParams("code is required and must be a string") }
        guard code.utf8.count <= Self.maxCodeBytes else { throw .invalidParams("code is \(code.utf8.count) bytes; the limit is \(Self.maxCodeBytes)") }
        guard !code.utf8.contains(0) || language != .shell else { throw .invalidParams("shell code must not contain NUL bytes") }
        self.language = language
        self.code = code
        if let h = o["handler"], !h.isNull {
            guard let b = h.boolValue else { throw .invalidParams("handler must be true or false") }
            handler = b
        } else {
            handler = false
        }
        event = o["event"]
        if let s = o["stdin"], !s.isNull {
            guard let text = s.stringValue else { throw .invalidParams("stdin must be a string") }
            guard text.utf8.count <= Self.maxStdinBytes else { throw .invalidParams("stdin is \(text.utf8.count) bytes; the limit is \(Self.maxStdinBytes)") }
            stdin = text
        } else {
            stdin = nil
        }
        env = try Self.validateEnv(o["env"])
        limits = try ExecutionLimits(json: o["limits"])
        if let s = o["stream"], !s.isNull {
            guard let b = s.boolValue else { throw .invalidParams("stream must be true or false") }
            stream = b
        } else {
            stream = false
        }
        if let e = o["execution_id"], !e.isNull {
            guard let id = e.stringValue, Self.isValidExecutionID(id) else {
                throw .invalidParams("execution_id must be 1-128 characters of letters, digits, '-', '_' or '.'")
            }
            executionID = id
        } else {
            executionID = nil
        }
    }

    public static func isValidExecutionID(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 128 else { return false }
        return id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f || c == 0x2e
        }
    }

    /// A valid environment name: [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes.
    public static func isValidEnvName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 128 else { return false }
        let isAlpha = { (c: UInt8) in (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f }
        return isAlpha(first) && name.utf8.allSatisfy { isAlpha($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    static func validateEnv(_ json: JSONValue?) throws(RPCError) -> [String: String] {
        guard let json, !json.isNull else { return [:] }
        guard let o = json.objectValue else { throw .invalidParams("env must be an object of string values") }
        guard o.count <= maxEnvVariables else { throw .invalidParams("env has \(o.count) variables; the limit is \(maxEnvVariables)") }
        var out: [String: String] = [:]
        for (name, value) in o {
            guard isValidEnvName(name) else {
                throw .invalidParams("env name '\(name)' is invalid: use letters, digits and '_', not starting with a digit")
            }
            guard !reservedEnvNames.contains(name), !name.hasPrefix("LD_") else {
                throw .invalidParams("env name '\(name)' is reserved by the sandbox and cannot be set")
            }
            guard let text = value.stringValue else { throw .invalidParams("env value of '\(name)' must be a string") }
            guard text.utf8.count <= maxEnvValueBytes, !text.utf8.contains(0) else {
                throw .invalidParams("env value of '\(name)' must be at most \(maxEnvValueBytes) bytes without NUL")
            }
            out[name] = text
        }
        return out
    }

    public var jsonValue: JSONValue {
        var o = JSONObject()
        o["language"] = .string(language.rawValue)
        o["code"] = .string(code)
        if handler { o["handler"] = .bool(true) }
        if let event { o["event"] = event }
        if let stdin { o["stdin"] = .string(stdin) }
        if !env.isEmpty { o["env"] = .object(JSONObject(env.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
        let l = limits.jsonValue
        if l.objectValue?.isEmpty == false { o["limits"] = l }
        if stream { o["stream"] = .bool(true) }
        if let executionID { o["execution_id"] = .string(executionID) }
        return .object(o)
    }
}
