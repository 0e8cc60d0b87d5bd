/// Which host variable names look like secrets (or daemon configuration) and therefore never pass
/// into a sandbox through an allow-list entry, only when the operator names them exactly in
/// `RestrictedEnvironment.explicitlyAllowed`. Matching ignores case.
///
/// A name is refused when, upper-cased:
/// - it contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, CREDENTIAL, APIKEY or PRIVATE anywhere
///   (`DB_PASSWORD`, `PGPASSWORD`, `SECRET_KEY`, `MY_API_TOKEN`, `GOOGLE_APPLICATION_CREDENTIALS`);
/// - one of its `_`-separated words is KEY, KEYS, PASS, PWD (except the name `PWD` itself), AUTH,
///   DSN, COOKIE, SALT, SESSION or CERT (`API_KEY`, `KEY_FILE`, `SMTP_PASS`, `SENTRY_DSN`);
/// - it starts with a prefix of credential-bearing services or of agents: DB_, DATABASE_,
///   REDIS_, AWS_, AZURE_, GCP_, GOOGLE_, GCLOUD_, POSTGRES_, PG, MYSQL_, MARIADB_, MONGO, AMQP_,
///   RABBITMQ_, VAULT_, SSH_, GPG_, GNUPG, DOCKER_, KUBE, NPM_, GITHUB_, GH_, GITLAB_, OPENAI_,
///   ANTHROPIC_, STRIPE_, SLACK_;
/// - it starts with STOCKADE_ (the daemon's own configuration) or LD_ (the dynamic loader's).
public enum SecretNames {
    static let substrings = ["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PRIVATE"]
    static let words: Set<Substring> = ["KEY", "KEYS", "PASS", "PWD", "AUTH", "DSN", "COOKIE", "SALT", "SESSION", "CERT"]
    static let prefixes = ["DB_", "DATABASE_", "REDIS_", "AWS_", "AZURE_", "GCP_", "GOOGLE_", "GCLOUD_", "POSTGRES_", "PG",
                           "MYSQL_", "MARIADB_", "MONGO", "AMQP_", "RABBITMQ_", "VAULT_", "SSH_", "GPG_", "GNUPG",
                           "DOCKER_", "KUBE", "NPM_", "GITHUB_", "GH_", "GITLAB_", "OPENAI_", "ANTHROPIC_",
                           "STRIPE_", "SLACK_", "STOCKADE_", "LD_"]

    /// Why `name` is refused from the host environment, or nil when an allow-list may pass it.
    public static func refusal(_ name: String) -> String? {
        let upper = name.uppercased()
        if let s = substrings.first(where: { upper.contains($0) }) { return "it contains \(s), so it looks like a secret" }
        if upper != "PWD", let w = upper.split(separator: "_").first(where: { words.contains($0) }) {
            return "its word \(w) makes it look like a secret"
        }
        if let p = prefixes.first(where: { upper.hasPrefix($0) }) {
            switch p {
            case "STOCKADE_": return "STOCKADE_* is the daemon's own configuration"
            case "LD_": return "LD_* controls the dynamic loader"
            default: return "\(p)* variables carry service credentials"
            }
        }
        return nil
    }

    public static func looksSecret(_ name: String) -> Bool { refusal(name) != nil }
}
