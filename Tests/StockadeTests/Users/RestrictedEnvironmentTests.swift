import Glibc
import Testing
@testable import Stockade

/// Secrets a daemon might hold in its own environment. Set once per test process (setenv is not
/// safe against concurrent readers, so it happens only the first time a test asks).
enum EnvironmentCanaries {
    static let secrets: [String: String] = [
        "DB_PASSWORD": "canary-db-password-7f3a",
        "SECRET_KEY": "canary-secret-key-91c2",
        "REDIS_PASSWORD": "canary-redis-password-55e0",
        "MY_API_TOKEN": "canary-api-token-d41d",
    ]
    /// A harmless variable an allow-list may pass, proving the host path works at all.
    static let harmless = ("ZZ_STOCKADE_TEST_HARMLESS", "harmless-value-1")

    static let installed: Bool = {
        for (name, value) in secrets { setenv(name, value, 1) }
        setenv(harmless.0, harmless.1, 1)
        return true
    }()

    /// Whether `env` leaks any canary, by name or by value.
    static func leaks(in env: [String: String]) -> [String] {
        var out: [String] = []
        for (name, value) in secrets {
            if env[name] != nil { out.append(name) }
            if env.values.contains(where: { $0.contains(value) }) { out.append("value of \(name)") }
        }
        return out
    }
}

@Suite("restricted environment")
struct RestrictedEnvironmentTests {
    let alice: UserID
    init() throws {
        _ = EnvironmentCanaries.installed
        alice = try UserID("alice")
    }

    @Test("secret canaries in the daemon's environment never pass, even when patterns name them",
          arguments: ["*", "DB_*,*_KEY,REDIS_*,*_TOKEN,*PASSWORD*,SECRET*", "DB_PASSWORD,SECRET_KEY,REDIS_PASSWORD,MY_API_TOKEN,ZZ_*"])
    func canariesRefused(_ allowList: String) throws {
        #expect(getenv("DB_PASSWORD") != nil, "the canaries are really in this process's environment")
        let restricted = try RestrictedEnvironment(allowList: allowList + ",ZZ_*")
        let env = try restricted.build(user: alice)
        #expect(EnvironmentCanaries.leaks(in: env).isEmpty, "leaked: \(EnvironmentCanaries.leaks(in: env))")
        #expect(env[EnvironmentCanaries.harmless.0] == EnvironmentCanaries.harmless.1, "allowed host variables do pass")
    }

    @Test("canaries pass only when named exactly in explicitlyAllowed")
    func explicitlyAllowed() throws {
        let restricted = try RestrictedEnvironment(allowList: "*", explicitlyAllowed: "DB_PASSWORD, MY_API_TOKEN")
        let env = try restricted.build(user: alice)
        #expect(env["DB_PASSWORD"] == EnvironmentCanaries.secrets["DB_PASSWORD"])
        #expect(env["MY_API_TOKEN"] == EnvironmentCanaries.secrets["MY_API_TOKEN"])
        #expect(env["SECRET_KEY"] == nil)
        #expect(env["REDIS_PASSWORD"] == nil)
        #expect(throws: UserDataError.self) { try RestrictedEnvironment(allowList: "", explicitlyAllowed: "DB_*") }
    }

    @Test("an exact secret name in the allow-list has no effect and is reported")
    func ignoredEntries() throws {
        let restricted = try RestrictedEnvironment(allowList: "DB_PASSWORD,TZ", host: .fixed(["DB_PASSWORD": "x", "TZ": "UTC"]))
        let env = try restricted.build(user: alice)
        #expect(env["DB_PASSWORD"] == nil)
        #expect(env["TZ"] == "UTC")
        #expect(restricted.ignoredEntries.count == 1)
        #expect(restricted.ignoredEntries.first?.hasPrefix("DB_PASSWORD") == true)
    }

    @Test("nothing is inherited without an allow-list; fixed values are always set and win")
    func fixedValues() throws {
        let host: [String: String] = ["PATH": "/evil/bin", "HOME": "/root", "LANG": "xx", "TERM": "xterm", "TZ": "UTC",
                                      "STOCKADE_USER_ID": "mallory", "LD_PRELOAD": "/evil.so", "PWD": "/root"]
        let none = try RestrictedEnvironment(host: .fixed(host)).build(user: alice)
        let expected: [String: String] = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/user", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
            "STOCKADE_USER_ID": "alice", "STOCKADE_OUTPUTS": "/outputs", "STOCKADE_UPLOADS": "/uploads", "STOCKADE_WORK": "/home/user",
        ]
        #expect(none == expected)
        let all = try RestrictedEnvironment(allowList: "*", host: .fixed(host)).build(user: alice, requestEnv: ["MY_VAR": "1"])
        var withHost = expected
        withHost["TERM"] = "xterm"
        withHost["TZ"] = "UTC"
        withHost["MY_VAR"] = "1"
        #expect(all == withHost, "reserved, loader and STOCKADE_ host variables never pass")
    }

    @Test("request variables override allowed host ones")
    func requestOverrides() throws {
        let restricted = try RestrictedEnvironment(allowList: "TZ", host: .fixed(["TZ": "UTC"]))
        #expect(try restricted.build(user: alice, requestEnv: ["TZ": "Europe/Paris"])["TZ"] == "Europe/Paris")
        // The user's own values may look like secrets: they are the user's to pass.
        #expect(try restricted.build(user: alice, requestEnv: ["MY_API_TOKEN": "mine"])["MY_API_TOKEN"] == "mine")
    }

    @Test("invalid request variables are refused with an error naming the variable", arguments: [
        ("1ABC", "x"), ("A-B", "x"), ("", "x"), ("A B", "x"), ("N_IS_129_BYTES_" + String(repeating: "N", count: 114), "x"),
        ("PATH", "/x"), ("HOME", "/"), ("TMPDIR", "/"), ("STOCKADE_USER_ID", "bob"), ("STOCKADE_OTHER", "x"),
        ("LD_PRELOAD", "/x.so"), ("LD_LIBRARY_PATH", "/x"), ("NUL_VALUE", "a\u{0}b"),
        ("BIG", "<32 KiB + 1>"),
    ])
    func invalidRequestVariables(_ name: String, _ value: String) throws {
        let value = value == "<32 KiB + 1>" ? String(repeating: "v", count: 32 * 1024 + 1) : value
        let restricted = try RestrictedEnvironment()
        let error = #expect(throws: UserDataError.self) { try restricted.build(user: alice, requestEnv: [name: value]) }
        guard case .invalidVariable(name, _)? = error else {
            Issue.record("expected invalidVariable naming '\(name.prefix(20))', got \(String(describing: error))")
            return
        }
    }

    @Test("request limits: 64 variables of 32 KiB are fine, 65 variables are not")
    func requestLimits() throws {
        let restricted = try RestrictedEnvironment()
        var env: [String: String] = [:]
        for i in 0..<64 { env["V\(i)"] = String(repeating: "v", count: 32 * 1024) }
        #expect(try restricted.build(user: alice, requestEnv: env).count == 64 + 8)
        env["V64"] = "x"
        #expect(throws: UserDataError.self) { try restricted.build(user: alice, requestEnv: env) }
    }

    @Test("allow-list parsing", arguments: [("LC_*, TZ ,,", ["LC_*", "TZ"]), ("", []), (" * ", ["*"])])
    func parsing(_ list: String, _ expected: [String]) throws {
        #expect(try EnvironmentPattern.parseList(list).map(\.text) == expected)
    }

    @Test("malformed allow-list entries are refused", arguments: ["A-B", "1X", "A=B", "A B,C", "LC_\u{0}"])
    func badAllowList(_ list: String) {
        #expect(throws: UserDataError.self) { try RestrictedEnvironment(allowList: list) }
    }

    @Test("glob patterns")
    func globs() throws {
        let lc = try EnvironmentPattern("LC_*")
        #expect(lc.matches("LC_ALL") && lc.matches("LC_") && !lc.matches("LANG") && !lc.matches("XLC_ALL"))
        let proxy = try EnvironmentPattern("*_PROXY")
        #expect(proxy.matches("HTTP_PROXY") && !proxy.matches("HTTP_PROXY_X"))
        let mid = try EnvironmentPattern("A*B*C")
        #expect(mid.matches("ABC") && mid.matches("AxxBxxC") && mid.matches("ABBC") && !mid.matches("ABCD") && !mid.matches("AC"))
        #expect(try EnvironmentPattern("TZ").matches("TZ") && !(try EnvironmentPattern("TZ").matches("TZX")))
    }

    @Test("which names look like secrets", arguments: [
        ("DB_PASSWORD", true), ("SECRET_KEY", true), ("REDIS_PASSWORD", true), ("MY_API_TOKEN", true),
        ("db_password", true), ("PGPASSWORD", true), ("API_KEY", true), ("AWS_REGION", true), ("GITHUB_TOKEN", true),
        ("SSH_AUTH_SOCK", true), ("SENTRY_DSN", true), ("SMTP_PASS", true), ("CLIENT_SECRET_ID", true),
        ("DATABASE_URL", true), ("STOCKADE_DATA_DIR", true), ("LD_PRELOAD", true), ("KEY", true),
        ("PWD", false), ("TZ", false), ("LC_ALL", false), ("TERM", false), ("LANGUAGE", false), ("MONKEY", false),
        ("KEYBOARD_LAYOUT", false), ("HTTP_PROXY", false), ("PYTHONUNBUFFERED", false), ("NODE_OPTIONS", false),
    ])
    func secretNames(_ name: String, _ secret: Bool) {
        #expect(SecretNames.looksSecret(name) == secret)
    }
}
