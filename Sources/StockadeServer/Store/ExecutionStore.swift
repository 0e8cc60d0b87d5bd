import GRDB
import StockadeProtocol

/// One execution as the daemon records it.
public struct ExecutionRecord: Sendable {
    public enum State: String, Sendable {
        case queued, running, completed, cancelled, failed
        /// The daemon stopped (or crashed) while it ran: the outcome is unknown.
        case interrupted
    }

    public var id: String
    public var userID: String
    public var sessionID: String?
    public var language: String
    /// sync, stream or async.
    public var mode: String
    public var state: State
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    /// The result contract (JSON), once finished.
    public var result: JSONValue?
    /// Why it failed without a result: {"code", "message"}.
    public var error: JSONValue?
}

/// The daemon's SQLite database (WAL mode): executions, and the outbox of results owed to the
/// control plane. A record is written before its execution runs and completed after; at start,
/// records left queued or running by a previous process are marked interrupted.
public final class ExecutionStore: Sendable {
    let pool: DatabasePool

    public struct DuplicateID: Error, CustomStringConvertible {
        public var id: String
        public var description: String { "an execution with id '\(id)' already exists: use a new execution_id" }
    }

    public init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA busy_timeout = 5000")
        }
        pool = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE executions (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    session_id TEXT,
                    language TEXT NOT NULL,
                    mode TEXT NOT NULL,
                    state TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    result TEXT,
                    error TEXT
                );
                CREATE INDEX executions_by_user ON executions(user_id, created_at);
                CREATE INDEX executions_by_state ON executions(state);
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    execution_id TEXT,
                    payload TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    last_error TEXT,
                    delivered_at REAL
                );
                CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);
                """)
        }
        try migrator.migrate(pool)
    }

    /// Mark what a previous process left queued or running as interrupted. Returns how many.
    /// With `outbox`, asynchronous ones are also queued for the control plane (it waits for them).
    @discardableResult
    public func markInterrupted(now: Double, outbox: ((ExecutionRecord) -> JSONValue)? = nil) throws -> Int {
        let error = JSONValue.object(["code": "interrupted", "message": "the daemon stopped while this execution ran; its outcome is unknown"])
        return try pool.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM executions WHERE state IN ('queued', 'running')").map(Self.record)
            try db.execute(sql: "UPDATE executions SET state = 'interrupted', finished_at = ?, error = ? WHERE state IN ('queued', 'running')",
                           arguments: [now, JSONWriter.string(error)])
            if let outbox {
                for var r in rows where r.mode == "async" {
                    r.state = .interrupted
                    r.finishedAt = now
                    r.error = error
                    try db.execute(sql: "INSERT INTO outbox (kind, execution_id, payload, next_attempt_at) VALUES ('result', ?, ?, ?)",
                                   arguments: [r.id, JSONWriter.string(outbox(r)), now])
                }
            }
            return rows.count
        }
    }

    public func insert(_ r: ExecutionRecord) async throws {
        do {
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO executions (id, user_id, session_id, language, mode, state, created_at, started_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [r.id, r.userID, r.sessionID, r.language, r.mode, r.state.rawValue, r.createdAt, r.startedAt])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw DuplicateID(id: r.id)
        }
    }

    public func markRunning(_ id: String, at time: Double) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE executions SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'",
                           arguments: [time, id])
        }
    }

    /// Complete a record; with `outbox`, also queue its delivery to the control plane (one transaction).
    public func finish(_ id: String, state: ExecutionRecord.State, at time: Double, result: JSONValue?, error: JSONValue?,
                       outbox: JSONValue? = nil) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE executions SET state = ?, finished_at = ?, result = ?, error = ? WHERE id = ?",
                           arguments: [state.rawValue, time, result.map { JSONWriter.string($0) },
                                       error.map { JSONWriter.string($0) }, id])
            if let outbox {
                try db.execute(sql: "INSERT INTO outbox (kind, execution_id, payload, next_attempt_at) VALUES ('result', ?, ?, ?)",
                               arguments: [id, JSONWriter.string(outbox), time])
            }
        }
    }

    public func get(_ id: String) async throws -> ExecutionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM executions WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    /// A page of a user's executions and the user's total.
    public func page(user: String, offset: Int, limit: Int, newestFirst: Bool) async throws -> (items: [ExecutionRecord], total: Int) {
        try await pool.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM executions WHERE user_id = ?", arguments: [user]) ?? 0
            let order = newestFirst ? "DESC" : "ASC"
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM executions WHERE user_id = ? ORDER BY created_at \(order), rowid \(order) LIMIT ? OFFSET ?
                """, arguments: [user, limit, offset])
            return (rows.map(Self.record), total)
        }
    }

    public func count() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM executions") ?? 0 }
    }

    static func record(_ row: Row) -> ExecutionRecord {
        ExecutionRecord(
            id: row["id"], userID: row["user_id"], sessionID: row["session_id"], language: row["language"],
            mode: row["mode"], state: ExecutionRecord.State(rawValue: row["state"]) ?? .failed,
            createdAt: row["created_at"], startedAt: row["started_at"], finishedAt: row["finished_at"],
            result: (row["result"] as String?).flatMap { try? JSONParser.parse($0) },
            error: (row["error"] as String?).flatMap { try? JSONParser.parse($0) })
    }

    // MARK: Outbox

    public struct OutboxItem: Sendable {
        public var id: Int64
        public var kind: String
        public var executionID: String?
        public var payload: String
        public var attempts: Int
    }

    /// Items due for delivery now, oldest first.
    public func dueOutbox(now: Double, limit: Int = 32) async throws -> [OutboxItem] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, kind, execution_id, payload, attempts FROM outbox
                WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?
                """, arguments: [now, limit]).map {
                OutboxItem(id: $0["id"], kind: $0["kind"], executionID: $0["execution_id"], payload: $0["payload"], attempts: $0["attempts"])
            }
        }
    }

    public func delivered(_ id: Int64, at time: Double) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?", arguments: [time, id])
        }
    }

    public func deliveryFailed(_ id: Int64, nextAttemptAt: Double, error: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                           arguments: [nextAttemptAt, error, id])
        }
    }

    public func pendingOutboxCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL") ?? 0 }
    }
}
